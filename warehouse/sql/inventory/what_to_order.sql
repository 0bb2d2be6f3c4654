-- Plan rows with something to order, filtered by store and category (NULL = all), most urgent
-- first.
select *
from reorder_plan
where suggested_order_qty > 0
    and (cast($store_id as varchar) is null or store_id = cast($store_id as varchar))
    and (cast($category as varchar) is null or category = cast($category as varchar))
order by stockout_risk desc, days_of_cover asc nulls first, order_value desc, store_id, product_id
