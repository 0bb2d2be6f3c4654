-- One customer's purchase lines, newest first, for the app.
select s.sold_at, s.order_id, s.product_id, p.description, p.category, s.quantity, s.revenue
from fct_sales as s
left join dim_product as p using (product_id)
where s.customer_id = $customer_id
order by s.sold_at desc, s.order_id, s.product_id
