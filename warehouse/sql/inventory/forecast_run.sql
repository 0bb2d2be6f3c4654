-- The latest forecast run made as of $until (forecasts start the day after).
select run_id, horizon
from forecast_runs
where "until" = $until
order by created_at desc
limit 1
