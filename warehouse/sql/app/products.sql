-- Products of the filtered categories, best sellers first (for pickers): product_id, label.
with sold as (
    select product_id, sum(revenue) as revenue from fct_sales_daily group by product_id
),

final as (
    select
        p.product_id,
        p.product_id || ' ' || coalesce(p.description, '') as label,
        p.category,
        coalesce(sold.revenue, 0) as revenue
    from dim_product as p
    left join sold on sold.product_id = p.product_id
    where len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category)
)

select * from final order by revenue desc, product_id
