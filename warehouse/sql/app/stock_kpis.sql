-- Stock KPIs per period ('current' = [$start, $end], 'previous' = [$prev_start, $prev_end],
-- contiguous): stockout_rate = share of store x product snapshots in the period with on-hand
-- <= 0; on_hand_units and inventory_value (GBP at unit cost) at the period's last snapshot.
with positions as (
    select
        case when i.snapshot_date >= $start then 'current' else 'previous' end as period,
        i.snapshot_date,
        i.product_id,
        i.on_hand_units
    from fct_inventory as i
    where i.snapshot_date between $prev_start and $end
        and (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], i.store_id))
        and (len($categories::VARCHAR[]) = 0 or i.product_id in (
            select product_id from dim_product
            where list_contains($categories::VARCHAR[], category)))
),

rates as (
    select
        period,
        avg(case when on_hand_units <= 0 then 1.0 else 0.0 end) as stockout_rate,
        max(snapshot_date) as snapshot_date
    from positions
    group by period
),

last_stock as (
    select
        r.period,
        sum(greatest(pos.on_hand_units, 0)) as on_hand_units,
        sum(greatest(pos.on_hand_units, 0) * p.unit_cost) as inventory_value
    from rates as r
    inner join positions as pos
        on pos.period = r.period and pos.snapshot_date = r.snapshot_date
    inner join dim_product as p on p.product_id = pos.product_id
    group by r.period
),

final as (
    select r.period, r.stockout_rate, s.on_hand_units, s.inventory_value, r.snapshot_date
    from rates as r
    inner join last_stock as s on s.period = r.period
)

select * from final
