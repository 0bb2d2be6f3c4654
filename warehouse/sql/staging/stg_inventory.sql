-- Stock snapshots; a later load of the same store x product x date replaces the earlier one.
with source as (
    select * from raw_inventory
    qualify row_number() over (
        partition by store_code, product_code, snapshot_date order by load_id desc
    ) = 1
),

final as (
    select
        store_code as store_id,
        product_code as product_id,
        snapshot_date,
        on_hand_units,
        coalesce(on_order_units, 0) as on_order_units,
        source
    from source
)

select * from final
