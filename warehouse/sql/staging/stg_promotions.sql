with source as (
    select * from raw_promotion
    qualify row_number() over (partition by promotion_code order by load_id desc) = 1
),

final as (
    select
        promotion_code as promotion_id,
        store_code as store_id,
        product_code as product_id,
        start_date,
        end_date,
        discount_pct,
        source
    from source
)

select * from final
