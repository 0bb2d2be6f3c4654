-- Supply parameters; store_id NULL means "every store". Latest load wins per key.
with source as (
    select * from raw_supply
    qualify row_number() over (
        partition by coalesce(store_code, '*'), product_code order by load_id desc
    ) = 1
),

final as (
    select
        store_code as store_id,
        product_code as product_id,
        lead_time_mean_days,
        lead_time_sd_days,
        order_cost,
        holding_cost_rate,
        min_order_qty,
        case_pack,
        supplier_code as supplier_id
    from source
)

select * from final
