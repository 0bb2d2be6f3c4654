-- Net units per store x product x period (day, or the source's week date), clipped at zero,
-- from $start through $until inclusive. Missing rows mean zero units.
select
    store_id,
    product_id,
    sale_date as ds,
    greatest(units, 0) as y
from fct_sales_daily
where sale_date between $start and $until
