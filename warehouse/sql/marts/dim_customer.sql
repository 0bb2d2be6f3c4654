with master as (
    select * from stg_customers
),

orders as (
    select
        customer_id,
        coalesce(order_id, sale_line_id) as order_key,
        min(sold_at) as sold_at,
        any_value(store_id) as store_id,
        any_value(source) as source
    from stg_sales_lines
    where customer_id is not null
    group by customer_id, order_key
),

activity as (
    select
        customer_id,
        min(sold_at) as first_order_at,
        max(sold_at) as last_order_at,
        count(*) as orders,
        mode(store_id) as most_used_store_id,
        any_value(source) as source
    from orders
    group by customer_id
),

rfm as (
    select customer_id, rfm_segment from customer_rfm
),

final as (
    select
        coalesce(m.customer_id, a.customer_id) as customer_id,
        coalesce(m.home_store_id, a.most_used_store_id) as home_store_id,
        m.region,
        -- the source's own segment, else the RFM segment (marts/customer_rfm.sql)
        coalesce(m.segment, r.rfm_segment) as segment,
        a.first_order_at,
        a.last_order_at,
        coalesce(a.orders, 0) as orders,
        coalesce(m.source, a.source) as source,
        r.rfm_segment
    from master as m
    full outer join activity as a on m.customer_id = a.customer_id
    left join rfm as r on r.customer_id = coalesce(m.customer_id, a.customer_id)
)

select * from final
