-- Keep only the latest run's forecasts and drivers (forecast_runs keeps the log of runs).
DELETE FROM forecasts;
DELETE FROM forecast_drivers;
INSERT INTO forecasts SELECT * FROM _new_forecasts;
INSERT INTO forecast_drivers SELECT * FROM _new_drivers;
INSERT INTO forecast_runs BY NAME SELECT * FROM _new_run;
