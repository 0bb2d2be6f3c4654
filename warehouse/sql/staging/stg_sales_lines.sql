-- One row per accepted sale line, renamed and typed.
with source as (
    select * from raw_sales_line
),

final as (
    select
        line_key as sale_line_id,
        order_id,
        sold_at,
        cast(sold_at as date) as sale_date,
        store_code as store_id,
        customer_code as customer_id,
        product_code as product_id,
        description,
        quantity,
        unit_price,
        list_price,
        quantity * unit_price as revenue,
        coalesce(list_price is not null and unit_price < list_price * 0.999, false) as is_promo,
        source
    from source
)

select * from final
