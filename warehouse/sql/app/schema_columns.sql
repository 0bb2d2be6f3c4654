-- Columns of the warehouse's tables and views: table_name, column_name, data_type, position.
select table_name, column_name, data_type, column_index as position
from duckdb_columns()
where database_name = current_database() and schema_name = 'main' and not internal
order by table_name, column_index
