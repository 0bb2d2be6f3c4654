-- Sales KPIs of the current period [$start, $end] and the previous one [$prev_start, $prev_end]
-- (contiguous): one row per period (period, revenue, units, orders; revenue and orders are NULL
-- when the period's lines have no price or no order id). Filters: $stores,
-- $categories (empty list = all); the category filter is a semi-join, so no join by default.
with lines as (
    select
        case when s.sale_date >= $start then 'current' else 'previous' end as period,
        s.revenue,
        s.quantity,
        s.order_id,
        coalesce(s.order_id, s.sale_line_id) as order_key
    from fct_sales as s
    where s.sale_date between $prev_start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], s.store_id))
        and (len($categories::VARCHAR[]) = 0 or s.product_id in (
            select product_id from dim_product
            where list_contains($categories::VARCHAR[], category)))
),

final as (
    select
        period,
        sum(revenue) as revenue,  -- NULL: no line has a price (a sales panel of units)
        coalesce(sum(quantity), 0) as units,
        -- NULL: no line has an order id (a panel's rows are not orders)
        case when count(order_id) > 0 then count(distinct order_key) end as orders
    from lines
    group by period
)

select * from final
