-- Products whose sales changed most between [$prev_start, $prev_end] and [$start, $end]:
-- the $n biggest rises (direction 'up') and the $n biggest falls ('down'). The change is in
-- revenue where any line of the two periods has a price (`measure` 'revenue'), else in units
-- (`measure` 'units': a sales panel of units or sales values without prices, where revenue is
-- NULL and ranking by it would rank nothing).
with by_product as (
    select
        d.product_id,
        sum(case when d.sale_date >= $start then d.revenue end) as revenue,
        sum(case when d.sale_date < $start then d.revenue end) as previous_revenue,
        sum(case when d.sale_date >= $start then d.units else 0 end) as units,
        sum(case when d.sale_date < $start then d.units else 0 end) as previous_units
    from fct_sales_daily as d
    inner join dim_product as p on p.product_id = d.product_id
    where d.sale_date between $prev_start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], d.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
    group by d.product_id
),

measure as (
    select
        case
            when count(revenue) + count(previous_revenue) > 0 then 'revenue' else 'units'
        end as measure
    from by_product
),

valued as (
    select
        b.product_id,
        m.measure,
        case when m.measure = 'revenue' then coalesce(b.revenue, 0) end as revenue,
        case when m.measure = 'revenue' then coalesce(b.previous_revenue, 0) end
            as previous_revenue,
        b.units,
        b.previous_units,
        case
            when m.measure = 'revenue' then coalesce(b.revenue, 0) else b.units
        end as value_now,
        case
            when m.measure = 'revenue' then coalesce(b.previous_revenue, 0) else b.previous_units
        end as value_before
    from by_product as b
    cross join measure as m
),

changes as (
    select
        v.product_id,
        p.description,
        p.category,
        v.measure,
        v.revenue,
        v.previous_revenue,
        v.units,
        v.previous_units,
        v.value_now - v.value_before as change,
        (v.value_now - v.value_before) / nullif(v.value_before, 0) as change_pct
    from valued as v
    inner join dim_product as p on p.product_id = v.product_id
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
