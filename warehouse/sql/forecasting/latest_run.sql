-- The most recent forecast run.
select * from forecast_runs order by created_at desc limit 1
