-- Units per date, optionally filtered by store, product or category (NULL = all).
select s.sale_date as date, sum(s.units) as units
from fct_sales_daily as s
left join dim_product as p on p.product_id = s.product_id
where ($store_id is null or s.store_id = $store_id)
  and ($product_id is null or s.product_id = $product_id)
  and ($category is null or p.category = $category)
group by s.sale_date
order by s.sale_date
