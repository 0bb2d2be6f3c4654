-- One row per accepted sale line.
with lines as (
    select * from stg_sales_lines
),

final as (
    select
        sale_line_id,
        order_id,
        sold_at,
        sale_date,
        store_id,
        customer_id,
        product_id,
        quantity,
        unit_price,
        list_price,
        revenue,
        is_promo,
        source
    from lines
)

select * from final
