-- First and last day of sales of the warehouse: a weekly panel's first week ($period_days = 7)
-- starts six days before its first row's date.
select
    min(sale_date) - cast($period_days - 1 as integer) as first_sale_date,
    max(sale_date) as last_sale_date
from fct_sales_daily
