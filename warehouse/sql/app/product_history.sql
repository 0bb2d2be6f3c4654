-- One product's daily units, revenue and average paid price in [$start, $end], summed over the
-- filtered stores (days without sales are absent: zero units).
with daily as (
    select sale_date, sum(units) as units, sum(revenue) as revenue
    from fct_sales_daily
    where product_id = $product_id
        and sale_date between $start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], store_id))
    group by sale_date
),

final as (
    select sale_date, units, revenue, revenue / nullif(units, 0) as avg_unit_price
    from daily
)

select * from final order by sale_date
