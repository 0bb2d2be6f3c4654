-- Whether any sale line names a customer (recommendations learn from customers' purchases).
select exists (
    select 1 from fct_sales where customer_id is not null and quantity > 0
) as any_customer_purchase
