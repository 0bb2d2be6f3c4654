-- Category and list price of every product (joined onto recommendation lists).
select product_id, category, unit_price
from dim_product
