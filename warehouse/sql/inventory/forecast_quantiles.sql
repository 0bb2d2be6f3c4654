-- Daily demand quantiles of one forecast run for the days ($until, $until + $horizon].
with forecast as (
    select * from forecasts
    where run_id = $run_id
        and date > $until
        and date <= $until + to_days(cast($horizon as integer))
),

final as (
    select store_id, product_id, date, q_05, q_10, q_25, q_50, q_75, q_90, q_95
    from forecast
)

select * from final
