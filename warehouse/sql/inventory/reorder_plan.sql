-- The reorder plan, most urgent first (highest stockout risk, then lowest days of cover).
select *
from reorder_plan
order by stockout_risk desc, days_of_cover asc nulls first, store_id, product_id
