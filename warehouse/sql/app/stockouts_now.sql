-- Store x product positions out of stock (on-hand <= 0) at the latest snapshot <= $end, filtered.
with latest as (
    select max(snapshot_date) as snapshot_date from fct_inventory where snapshot_date <= $end
),

final as (
    select count(*) as stockouts, count(distinct i.product_id) as products,
        max(i.snapshot_date) as snapshot_date
    from fct_inventory as i
    inner join latest on latest.snapshot_date = i.snapshot_date
    inner join dim_product as p on p.product_id = i.product_id
    where i.on_hand_units <= 0
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], i.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
)

select * from final
