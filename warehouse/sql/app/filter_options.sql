-- Values for the global filters: kind ('store' or 'category'), value, label. A store's label
-- is its id and name, or its id alone where the name is missing or repeats the id (a panel's
-- store "1" was listed as "1 1"); numeric ids sort as numbers (1, 2, ..., 10).
with stores as (
    select
        'store' as kind,
        store_id as value,
        case
            when coalesce(trim(store_name), '') in ('', store_id) then store_id
            else store_id || ' ' || store_name
        end as label
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

select * from final order by kind, try_cast(value as BIGINT) nulls last, value
