-- One run's forecast beside what sold, per date, summed over the chosen store/product/category
-- (NULL filter = all). actual is NULL for dates after the last sale.
with fc as (
    select a.date, sum(a.yhat) as yhat, sum(a.yhat_lo_80) as yhat_lo_80,
        sum(a.yhat_hi_80) as yhat_hi_80, string_agg(distinct a.model, ',') as model
    from forecast_archive as a
    join dim_product as p using (product_id)
    where a.run_id = $run_id
        and ($store_id is null or a.store_id = $store_id)
        and ($product_id is null or a.product_id = $product_id)
        and ($category is null or p.category = $category)
    group by a.date
),

sold as (
    select s.sale_date as date, sum(greatest(s.units, 0)) as units
    from fct_sales_daily as s
    join dim_product as p using (product_id)
    where s.sale_date between (select min(date) from fc) and (select max(date) from fc)
        and ($store_id is null or s.store_id = $store_id)
        and ($product_id is null or s.product_id = $product_id)
        and ($category is null or p.category = $category)
    group by s.sale_date
),

last_sale as (
    select max(sale_date) as last_day from fct_sales_daily
)

select
    fc.date, fc.yhat, fc.yhat_lo_80, fc.yhat_hi_80, fc.model,
    case when fc.date <= (select last_day from last_sale) then coalesce(sold.units, 0) end
        as actual
from fc
left join sold using (date)
order by fc.date
