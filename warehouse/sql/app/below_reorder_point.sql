-- Positions of the reorder plan whose stock position (on hand + on order) is at or below the
-- reorder point, filtered: positions, products.
with plan as (
    select r.store_id, r.product_id, r.on_hand, r.on_order, r.reorder_point, p.category
    from reorder_plan as r
    inner join dim_product as p on p.product_id = r.product_id
    where (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], r.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
),

final as (
    select count(*) as positions, count(distinct product_id) as products
    from plan
    where on_hand + coalesce(on_order, 0) <= reorder_point
)

select * from final
