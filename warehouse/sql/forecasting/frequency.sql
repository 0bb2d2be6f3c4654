-- The warehouse's sales frequency: 'W' when any weekly panel was loaded, else 'D'.
select coalesce(max(case when frequency = 'W' then 'W' end), 'D') as frequency
from source_frequency
