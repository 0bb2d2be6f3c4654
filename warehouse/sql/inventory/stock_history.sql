-- Stock snapshots of one store x product, oldest first.
select snapshot_date as date, on_hand_units, on_order_units
from fct_inventory
where store_id = $store_id and product_id = $product_id
order by snapshot_date
