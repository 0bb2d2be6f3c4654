-- Every forecast row of the latest run, for export.
select store_id, product_id, date, yhat, yhat_lo_80, yhat_hi_80, yhat_lo_95, yhat_hi_95,
       q_05, q_10, q_25, q_50, q_75, q_90, q_95, model, run_id
from forecasts
order by store_id, product_id, date
