-- Sales KPIs of the current period [$start, $end] and the previous one [$prev_start, $prev_end]:
-- one row per period (period, revenue, units, orders, customers). Filters: $stores, $categories
-- (empty list = all).
with lines as (
    select
        case when s.sale_date >= $start then 'current' else 'previous' end as period,
        s.revenue,
        s.quantity,
        coalesce(s.order_id, s.sale_line_id) as order_key,
        s.customer_id
    from fct_sales as s
    inner join dim_product as p on p.product_id = s.product_id
    where s.sale_date between $prev_start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], s.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
),

final as (
    select
        period,
        coalesce(sum(revenue), 0) as revenue,
        coalesce(sum(quantity), 0) as units,
        count(distinct order_key) as orders,
        count(distinct customer_id) as customers
    from lines
    group by period
)

select * from final
