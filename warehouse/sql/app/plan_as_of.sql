-- The date the reorder plan was made for.
select max(as_of) as as_of from reorder_plan
