with source as (
    select * from raw_customer
    qualify row_number() over (partition by customer_code order by load_id desc) = 1
),

final as (
    select
        customer_code as customer_id,
        home_store_code as home_store_id,
        region,
        segment,
        source
    from source
)

select * from final
