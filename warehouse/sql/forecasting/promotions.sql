-- Planned promotions expanded to store x product x day, between $start and $end (known in
-- advance, so usable for future periods). discount_pct 0-100; the largest one wins.
select
    s.store_id,
    p.product_id,
    cast(d.date_day as date) as ds,
    max(p.discount_pct) as discount_pct
from fct_promotion as p
join dim_date as d on d.date_day between p.start_date and p.end_date
join dim_store as s on p.store_id is null or p.store_id = s.store_id
where d.date_day between $start and $end
group by s.store_id, p.product_id, d.date_day
