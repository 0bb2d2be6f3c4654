-- Seasonality: revenue per ISO week (week_start) x day of week (1 = Monday) in [$start, $end].
with daily as (
    select d.sale_date, sum(d.revenue) as revenue, sum(d.units) as units
    from fct_sales_daily as d
    inner join dim_product as p on p.product_id = d.product_id
    where d.sale_date between $start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], d.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
    group by d.sale_date
),

final as (
    select dd.week_start, dd.day_of_week, dd.day_name, daily.revenue, daily.units
    from daily
    inner join dim_date as dd on dd.date_day = daily.sale_date
)

select * from final order by week_start, day_of_week
