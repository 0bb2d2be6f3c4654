-- Exported rows that are products their customer already bought, over a sample of $n customers:
-- 0 for default-rules lists (they exclude purchased products), many for lists that do not.
with sample as (
    select customer_id from (select distinct customer_id from recommendations)
    order by hash(customer_id) limit $n
)
select count(*) as bought
from recommendations r
join sample using (customer_id)
where exists (
    select 1 from fct_sales s where s.customer_id = r.customer_id and s.product_id = r.product_id
)
