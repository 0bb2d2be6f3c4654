-- Revenue and units per $grain ('day', 'week' or 'month') in [$start, $end], filtered.
-- $period_days = 7 (a weekly panel, each row the week ending on its date): a 'week' is the
-- source's own week, starting six days before the row's date, not the calendar week holding it.
with daily as (
    select
        case
            when $grain = 'week' and $period_days = 7 then d.sale_date - 6
            else date_trunc($grain, d.sale_date)::DATE
        end as period_start,
        d.revenue,
        d.units
    from fct_sales_daily as d
    inner join dim_product as p on p.product_id = d.product_id
    where d.sale_date between $start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], d.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
),

final as (
    select period_start, sum(revenue) as revenue, sum(units) as units
    from daily
    group by period_start
)

select * from final order by period_start
