-- Replenishment parameters resolved for every store x product that sells or holds stock:
-- store-specific row, else the product's all-store row, else the documented defaults
-- (warehouse/defaults.py). param_source says which one applied. supplier_id falls back the
-- same way, to DEFAULT_SUPPLIER_ID when no supply row names one.
with pairs as (
    select distinct store_id, product_id from fct_sales_daily
    union
    select distinct store_id, product_id from fct_inventory
),

supply as (
    select * from stg_supply
),

final as (
    select
        p.store_id,
        p.product_id,
        coalesce(s.lead_time_mean_days, a.lead_time_mean_days, $default_lead_time_mean_days)
            as lead_time_mean_days,
        coalesce(s.lead_time_sd_days, a.lead_time_sd_days, $default_lead_time_sd_days)
            as lead_time_sd_days,
        coalesce(s.order_cost, a.order_cost, $default_order_cost) as order_cost,
        coalesce(s.holding_cost_rate, a.holding_cost_rate, $default_holding_cost_rate)
            as holding_cost_rate,
        coalesce(s.min_order_qty, a.min_order_qty, $default_min_order_qty) as min_order_qty,
        coalesce(s.case_pack, a.case_pack, $default_case_pack) as case_pack,
        coalesce(s.supplier_id, a.supplier_id, $default_supplier_id) as supplier_id,
        case
            when s.product_id is not null then 'store_product'
            when a.product_id is not null then 'product'
            else 'default'
        end as param_source
    from pairs as p
    left join supply as s on s.store_id = p.store_id and s.product_id = p.product_id
    left join supply as a on a.store_id is null and a.product_id = p.product_id
)

select * from final
