-- Category of each product (for segment features and category roll-ups).
select product_id, coalesce(category, 'Uncategorised') as category
from dim_product
