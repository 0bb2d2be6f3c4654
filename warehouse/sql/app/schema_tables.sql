-- Tables and views of the warehouse: table_name, kind, rows (tables only), columns.
with tables as (
    select table_name, 'table' as kind, estimated_size as rows, column_count as columns
    from duckdb_tables()
    where database_name = current_database() and schema_name = 'main'
),

views as (
    select view_name, 'view', null::BIGINT, column_count
    from duckdb_views()
    where database_name = current_database() and schema_name = 'main' and not internal
),

final as (
    select * from tables
    union all
    select * from views
)

select * from final order by kind, table_name
