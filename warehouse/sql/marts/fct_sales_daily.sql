-- Store x product x day (or x week for weekly panels, dated as in the source).
-- Only days with sales are stored; a missing row means zero units sold.
with lines as (
    select * from fct_sales
),

promo_days as (
    select distinct s.store_id, p.product_id, cast(d.date_day as date) as sale_date
    from fct_promotion as p
    join dim_date as d on d.date_day between p.start_date and p.end_date
    join dim_store as s on p.store_id is null or p.store_id = s.store_id
),

-- an order with two lines of one product counts once; DISTINCT then GROUP BY spills to disk
-- at large scales where a grouped count(DISTINCT) would not
order_lines as (
    select
        store_id,
        product_id,
        sale_date,
        coalesce(order_id, sale_line_id) as order_key,
        sum(quantity) as units,
        sum(revenue) as revenue,
        bool_or(is_promo) as has_discounted_line
    from lines
    group by store_id, product_id, sale_date, order_key
),

daily as (
    select
        store_id,
        product_id,
        sale_date,
        sum(units) as units,
        sum(revenue) as revenue,
        count(*) as orders,
        sum(revenue) / nullif(sum(units), 0) as avg_unit_price,
        bool_or(has_discounted_line) as has_discounted_line
    from order_lines
    group by store_id, product_id, sale_date
),

final as (
    select
        d.store_id,
        d.product_id,
        d.sale_date,
        d.units,
        d.revenue,
        d.orders,
        d.avg_unit_price,
        d.has_discounted_line or p.product_id is not null as is_promo
    from daily as d
    left join promo_days as p
        on p.store_id = d.store_id and p.product_id = d.product_id and p.sale_date = d.sale_date
)

select * from final
