-- First and last sale date of identified customers (the data a model can learn from).
select min(sale_date) as first_date, max(sale_date) as last_date
from fct_sales
where customer_id is not null
