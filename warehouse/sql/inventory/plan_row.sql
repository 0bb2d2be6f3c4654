-- One store x product row of the reorder plan.
select *
from reorder_plan
where store_id = $store_id and product_id = $product_id
