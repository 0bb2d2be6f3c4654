-- Holiday days between $start and $end (from dim_date, filled from the `holidays` package).
select date_day as ds
from dim_date
where is_holiday and date_day between $start and $end
