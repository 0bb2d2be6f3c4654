-- Keep only the latest run's forecasts and drivers (forecast_runs keeps the log of runs),
-- every run's point forecasts and 80% intervals also go to forecast_archive (newest 12 runs).
DELETE FROM forecasts;
DELETE FROM forecast_drivers;
INSERT INTO forecasts SELECT * FROM _new_forecasts;
INSERT INTO forecast_drivers SELECT * FROM _new_drivers;
INSERT INTO forecast_runs BY NAME SELECT * FROM _new_run;
INSERT INTO forecast_archive BY NAME
    SELECT run_id, store_id, product_id, date, model, yhat, yhat_lo_80, yhat_hi_80
    FROM _new_forecasts;
DELETE FROM forecast_archive WHERE run_id NOT IN (
    SELECT run_id FROM forecast_runs ORDER BY created_at DESC LIMIT 12
);
