-- Quarantined rows per source and reason, with one example record.
select source, reason, count(*) as rows, any_value(record) as example_record,
    any_value(file) as file
from quarantine
group by source, reason
order by rows desc
