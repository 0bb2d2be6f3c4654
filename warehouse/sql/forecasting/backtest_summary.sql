-- The latest backtest, one row per model x segment x frequency.
select * from backtest_results order by frequency, segment, wape
