-- One row per product code. Master data wins; otherwise description is the line description
-- printed most often, price the median price paid, and category a keyword rule (docs/DATA.md).
-- Unit cost defaults to $default_cost_ratio x unit price when the source has none.
with master as (
    select * from stg_products
),

from_lines as (
    select
        product_id,
        mode(description) filter (where description is not null) as description,
        median(unit_price) filter (where unit_price > 0) as median_price,
        min(sale_date) as first_sold_on,
        max(sale_date) as last_sold_on,
        any_value(source) as source
    from stg_sales_lines
    group by product_id
),

joined as (
    select
        coalesce(m.product_id, l.product_id) as product_id,
        coalesce(m.description, l.description) as description,
        m.category as master_category,
        coalesce(m.unit_price, l.median_price) as unit_price,
        m.unit_cost,
        l.first_sold_on,
        l.last_sold_on,
        coalesce(m.source, l.source) as source
    from master as m
    full outer join from_lines as l on m.product_id = l.product_id
),

final as (
    select
        product_id,
        coalesce(description, 'Item ' || product_id) as description,
        coalesce(master_category, case
            when description is null then 'Uncategorised'
            when regexp_matches(upper(description), 'CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER')
                then 'Christmas'
            when regexp_matches(upper(description), 'CANDLE|T-LIGHT|TLIGHT|LANTERN|LIGHT')
                then 'Candles & Lights'
            when regexp_matches(upper(description), '\bBAG\b|BAGS|LUNCH BOX|TOTE|PURSE')
                then 'Bags & Storage'
            when regexp_matches(upper(description), 'MUG|CUP|PLATE|BOWL|TEA|JAR|BOTTLE|CAKE|BAKING|KITCHEN|NAPKIN|TRAY')
                then 'Kitchen & Dining'
            when regexp_matches(upper(description), 'CARD|WRAP|PAPER|NOTEBOOK|PEN|PENCIL|STICKER|TAPE')
                then 'Stationery & Wrap'
            when regexp_matches(upper(description), 'HEART|SIGN|FRAME|CLOCK|MIRROR|DOORSTOP|CUSHION|HOOK|DECORATION|ORNAMENT|VASE')
                then 'Home Decor'
            when regexp_matches(upper(description), 'GARDEN|PLANT|FLOWER|BIRD')
                then 'Garden'
            when regexp_matches(upper(description), 'TOY|GAME|DOLL|PLAYHOUSE|CHILDREN|SPACEBOY|PARTY|BUNTING')
                then 'Toys & Party'
            when regexp_matches(upper(description), 'NECKLACE|BRACELET|EARRINGS|RING|JEWEL')
                then 'Jewellery'
            else 'Other'
        end) as category,
        round(unit_price, 2) as unit_price,
        round(coalesce(unit_cost, unit_price * $default_cost_ratio), 2) as unit_cost,
        unit_cost is null as is_cost_estimated,
        first_sold_on,
        last_sold_on,
        source
    from joined
)

select * from final
