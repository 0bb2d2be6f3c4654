-- RFM segmentation of every customer with purchases (docs/DATA.md, "Customer segments").
-- As of the last sale in the warehouse: recency = days since the customer's last order,
-- frequency = distinct orders, monetary = net revenue. Each is scored 1-5 by its cumulative
-- distribution among customers (ties share a score; 5 = most recent / most orders / most spent).
-- Rules, first match wins:
--   new              first order within the last 30 days
--   champions        R >= 4 and F >= 4 and M >= 4
--   loyal            R >= 3 and F >= 4
--   potential_loyal  R >= 4 and F >= 3
--   promising        R >= 4 (one recent order)
--   at_risk          R <= 2 and F >= 3
--   needs_attention  R = 3
--   hibernating      R = 2
--   lost             R = 1
with orders as (
    select
        customer_id,
        coalesce(order_id, sale_line_id) as order_key,
        min(sold_at) as sold_at,
        sum(revenue) as revenue
    from stg_sales_lines
    where customer_id is not null
    group by customer_id, order_key
),

as_of as (
    select max(sold_at) as as_of from stg_sales_lines
),

per_customer as (
    select
        o.customer_id,
        date_diff('day', max(o.sold_at), any_value(a.as_of)) as recency_days,
        date_diff('day', min(o.sold_at), any_value(a.as_of)) as tenure_days,
        count(*) as frequency,
        sum(o.revenue) as monetary
    from orders as o
    cross join as_of as a
    group by o.customer_id
),

scored as (
    select
        *,
        cast(ceil(5 * cume_dist() over (order by recency_days desc)) as integer) as r_score,
        cast(ceil(5 * cume_dist() over (order by frequency)) as integer) as f_score,
        cast(ceil(5 * cume_dist() over (order by monetary)) as integer) as m_score
    from per_customer
),

final as (
    select
        customer_id,
        recency_days,
        frequency,
        monetary,
        r_score,
        f_score,
        m_score,
        case
            when tenure_days <= 30 then 'new'
            when r_score >= 4 and f_score >= 4 and m_score >= 4 then 'champions'
            when r_score >= 3 and f_score >= 4 then 'loyal'
            when r_score >= 4 and f_score >= 3 then 'potential_loyal'
            when r_score >= 4 then 'promising'
            when r_score <= 2 and f_score >= 3 then 'at_risk'
            when r_score = 3 then 'needs_attention'
            when r_score = 2 then 'hibernating'
            else 'lost'
        end as rfm_segment
    from scored
)

select * from final
