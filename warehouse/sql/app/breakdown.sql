-- Revenue, units and their shares by $by ('store', 'category' or 'product') in [$start, $end],
-- largest revenue first (largest units where no line has a price: revenue is then NULL).
-- $drill_category (empty = none) narrows to one category for the product drill-down.
with lines as (
    select
        case $by
            when 'store' then d.store_id || ' ' || s.store_name
            when 'category' then p.category
            else d.product_id || ' ' || coalesce(p.description, '')
        end as label,
        d.revenue,
        d.units
    from fct_sales_daily as d
    inner join dim_product as p on p.product_id = d.product_id
    inner join dim_store as s on s.store_id = d.store_id
    where d.sale_date between $start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], d.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
        and ($drill_category = '' or p.category = $drill_category)
),

final as (
    select
        label,
        sum(revenue) as revenue,
        sum(units) as units,
        sum(revenue) / nullif(sum(sum(revenue)) over (), 0) as revenue_share,
        sum(units) / nullif(sum(sum(units)) over (), 0) as units_share
    from lines
    group by label
)

select * from final order by revenue desc nulls last, units desc, label limit $limit
