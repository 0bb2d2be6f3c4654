-- The model that produced one store x product's current forecast (the auto choice's winner).
select model, count(*) as periods
from forecasts
where store_id = $store_id and product_id = $product_id
group by model
order by periods desc
