-- Calendar from the first sale (or snapshot) to one year after the last one, so forecasts have
-- calendar rows. Holidays come from ref_holiday (filled from the `holidays` package at build).
with bounds as (
    select
        least(
            (select min(sale_date) from stg_sales_lines),
            (select min(snapshot_date) from stg_inventory)
        ) as first_day,
        greatest(
            (select max(sale_date) from stg_sales_lines),
            (select max(snapshot_date) from stg_inventory)
        ) as last_day
),

days as (
    select cast(unnest(generate_series(
        coalesce(first_day, current_date),
        coalesce(last_day, current_date) + interval 366 day,
        interval 1 day
    )) as date) as date_day
    from bounds
),

holidays as (
    select holiday_date, string_agg(distinct holiday_name, '; ') as holiday_name
    from ref_holiday
    group by holiday_date
),

final as (
    select
        d.date_day,
        year(d.date_day) as year,
        quarter(d.date_day) as quarter,
        month(d.date_day) as month,
        weekofyear(d.date_day) as iso_week,
        isodow(d.date_day) as day_of_week,
        dayname(d.date_day) as day_name,
        isodow(d.date_day) >= 6 as is_weekend,
        cast(date_trunc('week', d.date_day) as date) as week_start,
        h.holiday_date is not null as is_holiday,
        h.holiday_name
    from days as d
    left join holidays as h on h.holiday_date = d.date_day
)

select * from final
