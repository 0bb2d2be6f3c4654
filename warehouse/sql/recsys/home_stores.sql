-- Each customer's home store (NULL when unknown).
select customer_id, home_store_id from dim_customer
