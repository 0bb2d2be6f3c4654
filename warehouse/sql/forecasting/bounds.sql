-- First and last sale period in the warehouse.
select min(sale_date) as first_day, max(sale_date) as last_day
from fct_sales_daily
