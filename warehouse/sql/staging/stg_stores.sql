with source as (
    select * from raw_store
    qualify row_number() over (partition by store_code order by load_id desc) = 1
),

final as (
    select store_code as store_id, store_name, region, source from source
)

select * from final
