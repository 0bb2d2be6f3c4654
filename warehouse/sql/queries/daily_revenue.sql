-- Revenue and units per day in [$start, $end].
with daily as (
    select sale_date, sum(revenue) as revenue, sum(units) as units
    from fct_sales_daily
    where sale_date between $start and $end
    group by sale_date
)

select * from daily order by sale_date
