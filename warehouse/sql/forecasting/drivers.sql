-- LightGBM drivers of one store x product forecast, largest effect first.
select driver, contribution
from forecast_drivers
where store_id = $store_id and product_id = $product_id
order by abs(contribution) desc
