-- Identified customers' purchase lines for recommendations, one row per customer x product x order.
-- $until: keep sales dated on or before this date (NULL = all); $since: after this date (NULL = all).
with lines as (
    select customer_id, product_id, coalesce(order_id, customer_id || '@' || cast(sold_at as varchar)) as order_id,
           sold_at, quantity
    from fct_sales
    where customer_id is not null
      and quantity > 0
      and ($until is null or sale_date <= cast($until as date))
      and ($since is null or sale_date > cast($since as date))
),

final as (
    select customer_id, product_id, order_id, min(sold_at) as sold_at, sum(quantity) as quantity
    from lines
    group by customer_id, product_id, order_id
)

select * from final order by customer_id, sold_at, order_id, product_id
