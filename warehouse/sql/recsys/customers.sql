-- Every customer id of the warehouse.
select customer_id from dim_customer order by customer_id
