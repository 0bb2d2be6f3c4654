-- One row per customer for the segment builder: region (country), the warehouse's segment,
-- orders, spend (GBP), last purchase, recency in days before the last sale day, the category
-- with most spend (category affinity) and its share of spend, and RFM scores 1-5 (5 = best).
with lines as (
    select s.customer_id, s.order_id, s.sale_date, s.revenue, p.category
    from fct_sales as s
    inner join dim_product as p on p.product_id = s.product_id
    where s.customer_id is not null
),

per_customer as (
    select customer_id, count(distinct order_id) as orders, sum(revenue) as spend,
        max(sale_date) as last_purchase
    from lines
    group by customer_id
),

per_category as (
    select customer_id, category, sum(revenue) as category_spend
    from lines
    group by customer_id, category
),

affinity as (
    select customer_id, arg_max(category, category_spend) as top_category,
        max(category_spend) / nullif(sum(category_spend), 0) as top_category_share
    from per_category
    group by customer_id
),

final as (
    select c.customer_id, d.region as country, d.segment, c.orders,
        round(c.spend, 2) as spend, c.last_purchase,
        date_diff('day', c.last_purchase, (select max(sale_date) from lines)) as recency_days,
        a.top_category, round(a.top_category_share, 4) as top_category_share,
        ntile(5) over (order by date_diff('day', c.last_purchase,
            (select max(sale_date) from lines)) desc) as r_score,
        ntile(5) over (order by c.orders) as f_score,
        ntile(5) over (order by c.spend) as m_score
    from per_customer as c
    left join dim_customer as d on d.customer_id = c.customer_id
    left join affinity as a on a.customer_id = c.customer_id
)

select *, r_score::varchar || f_score::varchar || m_score::varchar as rfm
from final
order by spend desc, customer_id
