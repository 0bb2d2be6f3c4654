-- One product's catalogue row.
select product_id, description, category, unit_price, unit_cost, is_cost_estimated,
    first_sold_on, last_sold_on
from dim_product
where product_id = $product_id
