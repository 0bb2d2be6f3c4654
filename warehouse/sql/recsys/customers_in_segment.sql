-- Customer ids of one dim_customer segment.
select customer_id from dim_customer where segment = $segment order by customer_id
