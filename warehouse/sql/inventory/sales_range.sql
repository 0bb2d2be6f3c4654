-- First and last sale date of the warehouse.
select min(sale_date) as first_sale_date, max(sale_date) as last_sale_date
from fct_sales_daily
