-- Headline KPIs for a date range [$start, $end]: one row.
with lines as (
    select * from fct_sales where sale_date between $start and $end
),

final as (
    select
        coalesce(sum(revenue), 0) as revenue,
        coalesce(sum(quantity), 0) as units,
        count(distinct coalesce(order_id, sale_line_id)) as orders,
        count(distinct customer_id) as customers,
        coalesce(sum(revenue), 0) / nullif(count(distinct coalesce(order_id, sale_line_id)), 0)
            as avg_basket,
        count(distinct store_id) as stores,
        count(distinct product_id) as products_sold
    from lines
)

select * from final
