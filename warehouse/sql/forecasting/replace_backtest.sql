-- The latest backtest replaces the previous one.
DELETE FROM backtest_results;
INSERT INTO backtest_results SELECT * FROM _new_backtest;
