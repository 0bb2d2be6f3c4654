-- Store x product pairs whose latest stock snapshot has nothing on hand (on_hand_units <= 0).
with ranked as (
    select store_id, product_id, on_hand_units,
           row_number() over (partition by store_id, product_id order by snapshot_date desc) as rn
    from fct_inventory
),

final as (
    select store_id, product_id from ranked where rn = 1 and on_hand_units <= 0
)

select * from final order by store_id, product_id
