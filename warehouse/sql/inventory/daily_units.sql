-- Net daily units per store x product in ($start, $end], clipped at 0 (returns are not demand).
-- Days without a row had no sales.
with daily as (
    select store_id, product_id, sale_date, units
    from fct_sales_daily
    where sale_date > $start and sale_date <= $end
),

final as (
    select store_id, product_id, sale_date, greatest(units, 0) as units
    from daily
)

select * from final
