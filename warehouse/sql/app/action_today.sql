-- What needs action today, one date rule for every alert: "today" is the latest stock snapshot
-- (the reorder plan's as_of). Lines to order (suggested_order_qty > 0) and positions out of stock
-- at that snapshot, filtered by store and category; the sidebar's date range does not apply.
with today as (
    select max(snapshot_date) as snapshot_date from fct_inventory
),

orders as (
    select count(*) as order_lines, count(distinct r.store_id) as order_stores,
        coalesce(sum(r.order_value), 0) as order_value,
        count(*) filter (where r.stockout_risk >= 0.5) as urgent_lines
    from reorder_plan as r
    where r.suggested_order_qty > 0
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], r.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], r.category))
),

stockouts as (
    select count(*) as stockouts, count(distinct i.product_id) as stockout_products
    from fct_inventory as i
    inner join today on today.snapshot_date = i.snapshot_date
    inner join dim_product as p on p.product_id = i.product_id
    where i.on_hand_units <= 0
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], i.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
)

select today.snapshot_date, orders.*, stockouts.*
from today, orders, stockouts
