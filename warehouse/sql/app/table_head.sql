-- The first $limit rows of table $table (a pipeline table such as forecast_runs).
select * from query_table($table) limit $limit
