-- Store x product pairs to plan as of $until: supply parameters (dim_supply, defaults already
-- resolved), product facts, the first day of sales (a weekly panel's first week, $period_days = 7,
-- starts six days before its row's date) and the latest stock snapshot on or before $until.
with supply as (
    select * from dim_supply
),

products as (
    select product_id, description, category, unit_price, unit_cost, is_cost_estimated
    from dim_product
),

first_sale as (
    select
        store_id,
        product_id,
        min(sale_date) - cast($period_days - 1 as integer) as first_sale_date
    from fct_sales_daily
    group by store_id, product_id
),

stock as (
    select store_id, product_id, snapshot_date, on_hand_units, on_order_units
    from fct_inventory
    where snapshot_date <= $until
    qualify row_number() over (
        partition by store_id, product_id order by snapshot_date desc
    ) = 1
),

final as (
    select
        s.store_id,
        s.product_id,
        p.description,
        p.category,
        p.unit_price,
        p.unit_cost,
        p.is_cost_estimated,
        s.lead_time_mean_days,
        s.lead_time_sd_days,
        s.order_cost,
        s.holding_cost_rate,
        s.min_order_qty,
        s.case_pack,
        s.param_source,
        f.first_sale_date,
        k.snapshot_date,
        k.on_hand_units,
        k.on_order_units
    from supply as s
    left join products as p on p.product_id = s.product_id
    left join first_sale as f on f.store_id = s.store_id and f.product_id = s.product_id
    left join stock as k on k.store_id = s.store_id and k.product_id = s.product_id
    order by s.store_id, s.product_id
)

select * from final
