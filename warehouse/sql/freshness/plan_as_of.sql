-- The date the current reorder plan was made for.
select max(as_of)::date as plan_as_of from reorder_plan
