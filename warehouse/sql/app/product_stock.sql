-- One product's stock per snapshot in [$start, $end], summed over the filtered stores (units).
with final as (
    select
        snapshot_date,
        sum(on_hand_units) as on_hand_units,
        sum(coalesce(on_order_units, 0)) as on_order_units
    from fct_inventory
    where product_id = $product_id
        and snapshot_date between $start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], store_id))
    group by snapshot_date
)

select * from final order by snapshot_date
