-- Values for the global filters: kind ('store' or 'category'), value, label.
with stores as (
    select 'store' as kind, store_id as value, store_id || ' ' || coalesce(store_name, '') as label
    from dim_store
),

categories as (
    select distinct 'category' as kind, category as value, category as label
    from dim_product
    where category is not null
),

final as (
    select * from stores
    union all
    select * from categories
)

select * from final order by kind, value
