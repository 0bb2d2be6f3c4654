-- The full catalogue with the attributes the product tower and the business rules use.
select product_id, coalesce(description, product_id) as description,
       coalesce(category, 'Unknown') as category, unit_price, first_sold_on
from dim_product
order by product_id
