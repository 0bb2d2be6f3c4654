-- Tables written by `python -m forecasting run` and `backtest` (docs/CONTRACTS.md).
CREATE TABLE IF NOT EXISTS forecasts (
    store_id VARCHAR NOT NULL, product_id VARCHAR NOT NULL, date DATE NOT NULL,
    model VARCHAR NOT NULL, yhat DOUBLE NOT NULL,
    yhat_lo_80 DOUBLE, yhat_hi_80 DOUBLE, yhat_lo_95 DOUBLE, yhat_hi_95 DOUBLE,
    q_05 DOUBLE, q_10 DOUBLE, q_25 DOUBLE, q_50 DOUBLE, q_75 DOUBLE, q_90 DOUBLE, q_95 DOUBLE,
    run_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS forecast_runs (
    run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP NOT NULL, until DATE NOT NULL,
    horizon INTEGER NOT NULL, models VARCHAR NOT NULL, n_series BIGINT NOT NULL,
    frequency VARCHAR, model_version VARCHAR, choice VARCHAR, calibration VARCHAR
);
-- Warehouses made before the calibration column: add it (older rows keep NULL).
ALTER TABLE forecast_runs ADD COLUMN IF NOT EXISTS calibration VARCHAR;
CREATE TABLE IF NOT EXISTS forecast_drivers (
    store_id VARCHAR NOT NULL, product_id VARCHAR NOT NULL, driver VARCHAR NOT NULL,
    contribution DOUBLE NOT NULL, run_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS backtest_results (
    model VARCHAR NOT NULL, segment VARCHAR NOT NULL, frequency VARCHAR NOT NULL,
    n_series BIGINT, wape DOUBLE, mase DOUBLE, rmsse DOUBLE, bias DOUBLE, pinball DOUBLE,
    coverage_80 DOUBLE, coverage_95 DOUBLE, until DATE, horizon INTEGER, windows INTEGER,
    created_at TIMESTAMP
);
-- Earlier runs' forecasts, kept for "last week's forecast vs what happened" (newest 12 runs).
CREATE TABLE IF NOT EXISTS forecast_archive (
    run_id VARCHAR NOT NULL, store_id VARCHAR NOT NULL, product_id VARCHAR NOT NULL,
    date DATE NOT NULL, model VARCHAR NOT NULL, yhat DOUBLE NOT NULL,
    yhat_lo_80 DOUBLE, yhat_hi_80 DOUBLE
);
