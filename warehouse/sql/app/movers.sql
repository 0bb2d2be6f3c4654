-- Products whose revenue changed most between [$prev_start, $prev_end] and [$start, $end]:
-- the $n biggest rises (direction 'up') and the $n biggest falls ('down').
with by_product as (
    select
        d.product_id,
        sum(case when d.sale_date >= $start then d.revenue else 0 end) as revenue,
        sum(case when d.sale_date < $start then d.revenue else 0 end) as previous_revenue
    from fct_sales_daily as d
    inner join dim_product as p on p.product_id = d.product_id
    where d.sale_date between $prev_start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], d.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
    group by d.product_id
),

changes as (
    select
        b.product_id,
        p.description,
        p.category,
        b.revenue,
        b.previous_revenue,
        b.revenue - b.previous_revenue as change,
        (b.revenue - b.previous_revenue) / nullif(b.previous_revenue, 0) as change_pct
    from by_product as b
    inner join dim_product as p on p.product_id = b.product_id
),

ups as (
    select 'up' as direction, * from changes where change > 0 order by change desc limit $n
),

downs as (
    select 'down' as direction, * from changes where change < 0 order by change asc limit $n
),

final as (
    select * from ups
    union all
    select * from downs
)

select * from final
