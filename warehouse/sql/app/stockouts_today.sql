-- Positions out of stock at "today" (the latest stock snapshot), filtered by store and category;
-- used when there is no reorder plan yet.
with today as (
    select max(snapshot_date) as snapshot_date from fct_inventory
)

select today.snapshot_date, count(i.store_id) as stockouts,
    count(distinct i.product_id) as stockout_products
from today
left join fct_inventory as i
    on i.snapshot_date = today.snapshot_date and i.on_hand_units <= 0
    and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], i.store_id))
    and (len($categories::VARCHAR[]) = 0
        or i.product_id in (select product_id from dim_product
            where list_contains($categories::VARCHAR[], category)))
group by today.snapshot_date
