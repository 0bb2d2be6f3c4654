-- Forecast rows of the latest run, optionally filtered (NULL = all), summed bottom-up per date.
-- Interval half-widths are combined as independent (root of the summed squares), so a roll-up's
-- interval is narrower than the sum of its items' intervals.
with rows as (
    select f.*
    from forecasts as f
    left join dim_product as p on p.product_id = f.product_id
    where ($store_id is null or f.store_id = $store_id)
      and ($product_id is null or f.product_id = $product_id)
      and ($category is null or p.category = $category)
),

final as (
    select
        date,
        sum(yhat) as yhat,
        greatest(sum(yhat) - sqrt(sum(power(yhat - yhat_lo_80, 2))), 0) as yhat_lo_80,
        sum(yhat) + sqrt(sum(power(yhat_hi_80 - yhat, 2))) as yhat_hi_80,
        greatest(sum(yhat) - sqrt(sum(power(yhat - yhat_lo_95, 2))), 0) as yhat_lo_95,
        sum(yhat) + sqrt(sum(power(yhat_hi_95 - yhat, 2))) as yhat_hi_95,
        case when count(distinct model) = 1 then min(model) else 'mixed' end as model
    from rows
    group by date
)

select * from final order by date
