-- Replace the reorder plan with the registered frame `plan_frame` (one transaction).
create or replace table reorder_plan as
select * from plan_frame
