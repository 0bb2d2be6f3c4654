with master as (
    select * from stg_stores
),

seen as (
    select store_id, any_value(source) as source
    from stg_sales_lines
    group by store_id
    union all
    select store_id, any_value(source) from stg_inventory group by store_id
),

final as (
    select
        coalesce(m.store_id, s.store_id) as store_id,
        coalesce(m.store_name, coalesce(m.store_id, s.store_id)) as store_name,
        m.region,
        coalesce(m.source, s.source) as source
    from master as m
    full outer join (select store_id, any_value(source) as source from seen group by store_id) as s
        on m.store_id = s.store_id
)

select * from final
