-- One row when the customer exists.
select customer_id from dim_customer where customer_id = $customer_id
