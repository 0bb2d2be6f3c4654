-- Price promotions; store_id NULL means every store.
with promotions as (
    select * from stg_promotions
),

final as (
    select promotion_id, store_id, product_id, start_date, end_date, discount_pct, source
    from promotions
)

select * from final
