-- Product master rows, latest load wins per product code.
with source as (
    select * from raw_product
    qualify row_number() over (partition by product_code order by load_id desc) = 1
),

final as (
    select
        product_code as product_id,
        nullif(trim(description), '') as description,
        nullif(trim(category), '') as category,
        unit_price,
        unit_cost,
        source
    from source
)

select * from final
