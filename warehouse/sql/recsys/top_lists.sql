-- The exported top-k lists (table `recommendations`, default rules) with each product's category
-- and price as the live service gives them (recsys/products.sql), best first per customer.
select r.customer_id, r.rank, r.product_id, r.description,
       coalesce(p.category, 'Unknown') as category, p.unit_price, r.score, r.reason, r.model
from recommendations r
left join dim_product p on p.product_id = r.product_id
order by r.customer_id, r.rank
