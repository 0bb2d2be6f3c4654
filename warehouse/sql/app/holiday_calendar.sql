-- The holidays in dim_date (the warehouse's calendar): how many, the first and the last.
select count(*) as holidays, min(date_day) as first_day, max(date_day) as last_day
from dim_date
where is_holiday
