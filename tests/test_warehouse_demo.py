"""The demo retailer: deterministic, realistic enough for recommendations and forecasts."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from warehouse.db import WarehouseError, query, reading, scalar
from warehouse.demo import DemoConfig, generate


def test_same_seed_same_data_other_seed_other_data() -> None:
    cfg = DemoConfig(scale=0.05, seed=3, n_days=90)
    a, b = generate(cfg), generate(cfg)
    other = generate(DemoConfig(scale=0.05, seed=4, n_days=90))
    for name in a:
        assert a[name].equals(b[name]), name
    assert not a["raw_sales_line"].equals(other["raw_sales_line"])


@pytest.mark.parametrize("scale", [0, -1, 1000])
def test_scale_is_validated(scale: float) -> None:
    with pytest.raises(WarehouseError, match="--scale"):
        DemoConfig(scale=scale)


def test_sizes_follow_scale(demo_db_master: Path) -> None:
    with reading(demo_db_master) as con:
        assert scalar(con, "SELECT count(*) FROM dim_store") == 2
        assert scalar(con, "SELECT count(*) FROM dim_product") == 100
        assert scalar(con, "SELECT count(*) FROM dim_customer") == 2000
        days = scalar(con, "SELECT count(DISTINCT sale_date) FROM fct_sales")
    assert 700 <= days <= 730  # two years, closed on Christmas Day


def test_weekly_seasonality_and_christmas_closure(demo_db_master: Path) -> None:
    with reading(demo_db_master) as con:
        by_dow = query(
            con,
            """
            SELECT isodow(sale_date) AS dow, sum(units) / count(DISTINCT sale_date) AS units_per_day
            FROM fct_sales_daily GROUP BY 1 ORDER BY 1""",
        )
        xmas = scalar(
            con, "SELECT count(*) FROM fct_sales WHERE strftime(sale_date, '%m-%d') = '12-25'"
        )
    saturday = by_dow.filter(pl.col("dow") == 6)["units_per_day"][0]
    tuesday = by_dow.filter(pl.col("dow") == 2)["units_per_day"][0]
    assert saturday > 1.3 * tuesday
    assert xmas == 0


def test_promotions_cut_price_and_lift_units(demo_db_master: Path) -> None:
    with reading(demo_db_master) as con:
        lift = query(
            con,
            """
            WITH d AS (
                SELECT product_id, is_promo, avg(units) AS units, avg(avg_unit_price) AS price
                FROM fct_sales_daily GROUP BY ALL)
            SELECT avg(p.units / n.units) AS unit_ratio, avg(p.price / n.price) AS price_ratio
            FROM d p JOIN d n USING (product_id) WHERE p.is_promo AND NOT n.is_promo""",
        )
    assert lift["price_ratio"][0] < 0.95
    assert lift["unit_ratio"][0] > 1.2


def test_customers_buy_again_and_stock_runs_out(demo_db_master: Path) -> None:
    with reading(demo_db_master) as con:
        repeat_share = scalar(
            con,
            """
            WITH c AS (SELECT customer_id, product_id, count(DISTINCT order_id) AS n
                       FROM fct_sales WHERE customer_id IS NOT NULL GROUP BY ALL)
            SELECT avg(CASE WHEN n > 1 THEN 1 ELSE 0 END) FROM c""",
        )
        stockout_share = scalar(
            con, "SELECT avg(CASE WHEN on_hand_units <= 0 THEN 1 ELSE 0 END) FROM fct_inventory"
        )
        anonymous = scalar(
            con, "SELECT avg(CASE WHEN customer_id IS NULL THEN 1 ELSE 0 END) FROM fct_sales"
        )
    assert repeat_share > 0.15
    assert 0.005 < stockout_share < 0.2
    assert 0.15 < anonymous < 0.5


def test_long_tail_is_intermittent(demo_db_master: Path) -> None:
    with reading(demo_db_master) as con:
        zero_share = query(
            con,
            """
            WITH p AS (SELECT store_id, product_id, count(*) AS selling_days
                       FROM fct_sales_daily GROUP BY ALL)
            SELECT quantile_cont(1 - selling_days / 730.0, 0.75) AS p75_zero_share,
                   quantile_cont(1 - selling_days / 730.0, 0.1) AS p10_zero_share FROM p""",
        )
    assert zero_share["p75_zero_share"][0] > 0.6  # the tail sells on fewer than 40% of days
    assert zero_share["p10_zero_share"][0] < 0.3  # while the head sells most days
