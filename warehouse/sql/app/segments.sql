-- Customer segments with their sizes.
select segment, count(*) as customers
from dim_customer
where segment is not null
group by segment
order by customers desc
