-- Products known to be out of stock everywhere at their latest snapshot (on hand <= 0 in every store).
with latest as (
    select store_id, product_id, max(snapshot_date) as snapshot_date
    from fct_inventory
    group by store_id, product_id
),

final as (
    select i.product_id, max(i.on_hand_units) as best_on_hand_units
    from fct_inventory as i
    join latest as l using (store_id, product_id, snapshot_date)
    group by i.product_id
)

select product_id from final where best_on_hand_units <= 0
