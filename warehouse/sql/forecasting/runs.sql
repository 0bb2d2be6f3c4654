-- Forecast runs, newest first, with whether their forecasts are still kept.
select
    r.run_id, r.created_at, r.until, r.horizon, r.models, r.n_series, r.model_version,
    r.run_id in (select distinct run_id from forecast_archive) as kept
from forecast_runs as r
order by r.created_at desc
