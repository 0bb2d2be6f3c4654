-- Stock KPIs per period ('current' = [$start, $end], 'previous' = [$prev_start, $prev_end]):
-- stockout_rate = share of store x product snapshots in the period with on-hand <= 0;
-- on_hand_units and inventory_value (GBP at unit cost) at the period's last snapshot.
with periods as (
    select 'current' as period, $start::DATE as first_day, $end::DATE as last_day
    union all
    select 'previous', $prev_start::DATE, $prev_end::DATE
),

positions as (
    select per.period, i.snapshot_date, i.on_hand_units, p.unit_cost
    from periods as per
    inner join fct_inventory as i
        on i.snapshot_date between per.first_day and per.last_day
    inner join dim_product as p on p.product_id = i.product_id
    where (len($stores::VARCHAR[]) = 0 or list_contains($stores::VARCHAR[], i.store_id))
        and (len($categories::VARCHAR[]) = 0 or list_contains($categories::VARCHAR[], p.category))
),

last_snapshot as (
    select period, max(snapshot_date) as snapshot_date from positions group by period
),

final as (
    select
        pos.period,
        avg(case when pos.on_hand_units <= 0 then 1.0 else 0.0 end) as stockout_rate,
        sum(case when pos.snapshot_date = ls.snapshot_date
            then greatest(pos.on_hand_units, 0) else 0 end) as on_hand_units,
        sum(case when pos.snapshot_date = ls.snapshot_date
            then greatest(pos.on_hand_units, 0) * pos.unit_cost else 0 end) as inventory_value,
        max(ls.snapshot_date) as snapshot_date
    from positions as pos
    inner join last_snapshot as ls on ls.period = pos.period
    group by pos.period
)

select * from final
