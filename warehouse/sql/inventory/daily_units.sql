-- Net daily units per store x product in ($start, $end], clipped at 0 (returns are not demand).
-- Days without a row had no sales. A weekly panel ($period_days = 7: each row is the week ending
-- on its sale_date) is spread evenly over its days; only periods ending on or before $end count,
-- so a plan never reads a week that had not ended by its date.
with periods as (
    select store_id, product_id, sale_date, greatest(units, 0) as units
    from fct_sales_daily
    where sale_date > $start and sale_date <= $end
),

spread as (
    select
        p.store_id,
        p.product_id,
        p.sale_date - cast(d.offset_days as integer) as sale_date,
        p.units / $period_days as units
    from periods as p
    cross join range($period_days) as d (offset_days)
),

final as (
    select store_id, product_id, sale_date, units
    from spread
    where sale_date > $start
)

select * from final
