"""Mart key tests (unique, not null) and the layer build."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.build import MART_KEYS, STAGING, check_mart_keys
from warehouse.db import reading, scalar


def test_every_mart_key_is_unique_and_not_null(demo_db_master: Path) -> None:
    with reading(demo_db_master) as con:
        assert check_mart_keys(con) == []


def test_key_test_catches_duplicates_and_nulls(demo_db: Path) -> None:
    con = duckdb.connect(str(demo_db))
    con.execute("INSERT INTO dim_store SELECT * FROM dim_store LIMIT 1")
    con.execute("INSERT INTO dim_product (product_id) VALUES (NULL)")
    failures = {f.mart: f for f in check_mart_keys(con)}
    con.close()
    assert failures["dim_store"].duplicate_keys == 1
    assert failures["dim_product"].null_keys == 1


def test_layers_exist_with_staging_as_views(demo_db_master: Path) -> None:
    with reading(demo_db_master) as con:
        kinds = dict(
            con.execute("SELECT table_name, table_type FROM information_schema.tables").fetchall()
        )
    assert all(kinds[name] == "VIEW" for name in STAGING)
    assert all(kinds[name] == "BASE TABLE" for name in MART_KEYS)


def test_daily_fact_agrees_with_lines(demo_db_master: Path) -> None:
    with reading(demo_db_master) as con:
        lines = scalar(con, "SELECT sum(quantity) FROM fct_sales")
        daily = scalar(con, "SELECT sum(units) FROM fct_sales_daily")
        supply_pairs = scalar(con, "SELECT count(*) FROM dim_supply")
        sold_pairs = scalar(
            con, "SELECT count(DISTINCT (store_id, product_id)) FROM fct_sales_daily"
        )
    assert abs(lines - daily) < 1e-6
    assert supply_pairs >= sold_pairs
