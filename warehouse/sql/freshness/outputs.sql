-- What the outputs say about themselves: the latest forecast run and the plan's date.
-- Run by services.freshness only on tables that exist ($has_runs / $has_plan guard the reads).
select
    (select run_id from forecast_runs order by created_at desc limit 1) as forecast_run_id,
    (select until from forecast_runs order by created_at desc limit 1) as forecast_until,
    (select created_at from forecast_runs order by created_at desc limit 1) as forecast_created_at
