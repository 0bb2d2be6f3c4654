-- First and last sale date, and row counts of the main facts.
select
    (select min(sale_date) from fct_sales_daily) as first_day,
    (select max(sale_date) from fct_sales_daily) as last_day,
    (select count(*) from fct_sales) as sale_lines,
    (select count(*) from dim_product) as products,
    (select count(*) from dim_store) as stores,
    (select count(*) from dim_customer) as customers
