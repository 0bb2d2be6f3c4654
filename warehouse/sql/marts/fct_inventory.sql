-- On-hand and on-order units per store x product x snapshot date, where the source has stock.
with snapshots as (
    select * from stg_inventory
),

final as (
    select store_id, product_id, snapshot_date, on_hand_units, on_order_units, source
    from snapshots
)

select * from final
