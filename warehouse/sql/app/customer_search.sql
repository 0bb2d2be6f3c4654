-- Customers whose id starts with $prefix (case-insensitive), most orders first, at most $limit.
select customer_id, segment, region, home_store_id, orders, last_order_at
from dim_customer
where customer_id ilike $prefix || '%'
order by orders desc, customer_id
limit $limit
