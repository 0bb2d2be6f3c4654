-- Every load, newest first.
select load_id, kind, source, file, started_at, finished_at, rows_read, rows_accepted,
    rows_added, rows_already_loaded, rows_quarantined, quarantine_reasons
from load_log
order by started_at desc
