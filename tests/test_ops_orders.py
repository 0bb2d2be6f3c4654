"""Purchase orders: suppliers from the demo and `ingest supply`, orders per supplier x store,
the XLSX opened and checked (sheets, totals equal the sum of lines)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from forecasting.cli import main as forecasting_main
from forecasting.inventory.orders import purchase_orders
from warehouse.cli import main as warehouse_main
from warehouse.db import query, reading


def test_plan_export_writes_one_sheet_per_supplier_and_a_summary(
    demo_db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "po.xlsx"
    assert forecasting_main(["plan", "--db", str(demo_db), "--export", str(out)]) == 0
    sheets = fastexcel.read_excel(out).sheet_names
    summary = pl.read_excel(out, sheet_name="Summary")
    suppliers = sorted(summary["supplier_id"].unique().to_list())
    assert sheets == ["Summary", *suppliers]
    assert suppliers == ["SUP01", "SUP02", "SUP03", "SUP04"]  # the demo's four suppliers
    lines = pl.concat([pl.read_excel(out, sheet_name=s) for s in suppliers])
    assert lines.height == summary["lines"].sum() > 0
    # every line: total = quantity x unit cost; every order: total = the sum of its lines
    assert (
        lines["line_total"] - (lines["quantity"] * lines["unit_cost"]).round(2)
    ).abs().max() < 1e-9
    sums = lines.group_by("order_number").agg(
        pl.col("line_total").sum().alias("sum_lines"), pl.len().alias("n")
    )
    joined = summary.join(sums, on="order_number", how="full", coalesce=True)
    assert joined.height == summary.height
    assert (joined["order_total"] - joined["sum_lines"]).abs().max() < 0.005
    assert (joined["lines"] == joined["n"]).all()
    # one order per supplier x store, numbered, delivered after its lead time
    assert summary.select("supplier_id", "store_id").is_unique().all()
    assert summary["order_number"].is_unique().all()
    assert (summary["expected_delivery"] > summary["order_date"]).all()
    for row in summary.iter_rows(named=True):
        assert row["order_number"] == (
            f"PO-{row['order_date']:%Y%m%d}-{row['supplier_id']}-{row['store_id']}"
        )
    # the app's function returns the same orders
    same = purchase_orders(demo_db)
    assert same.orders["order_total"].sum() == pytest.approx(summary["order_total"].sum())


def test_ingest_supply_reads_an_optional_supplier_column(demo_db: Path, tmp_path: Path) -> None:
    with reading(demo_db) as con:
        pairs = query(con, "select store_id, product_id from dim_supply order by 1, 2 limit 2")
    (store_a, product_a), (_, product_b) = pairs.rows()
    csv = tmp_path / "supply.csv"
    csv.write_text(
        "product_id,store_id,supplier_id,lead_time_mean_days\n"
        f"{product_a},{store_a},ACME,3\n{product_b},,,5\n"
    )
    assert warehouse_main(["ingest", "supply", str(csv), "--db", str(demo_db)]) == 0
    with reading(demo_db) as con:
        rows = query(
            con,
            "select product_id, store_id, supplier_id, lead_time_mean_days, param_source "
            "from dim_supply "
            "where product_id in ($a, $b)",
            {"a": product_a, "b": product_b},
        )
    acme = rows.filter((pl.col("product_id") == product_a) & (pl.col("store_id") == store_a))
    assert acme["supplier_id"].to_list() == ["ACME"]
    # no supplier given on the all-store row: the documented default where that row applies
    # (the demo's store-specific row of the remote store still names its supplier)
    b_rows = rows.filter(
        (pl.col("product_id") == product_b) & (pl.col("param_source") == "product")
    )
    assert b_rows.height > 0
    assert set(b_rows["supplier_id"]) == {"DEFAULT"} and set(b_rows["lead_time_mean_days"]) == {5.0}


def test_orders_without_supplier_rows_use_the_default_supplier() -> None:
    from forecasting.inventory.orders import build_orders

    plan = pl.DataFrame(
        {
            "store_id": ["S1", "S1", "S2"],
            "product_id": ["P1", "P2", "P1"],
            "suggested_order_qty": [3, 0, 4],
            "unit_cost": [1.5, 2.0, 0.333],
            "as_of": [dt.date(2026, 1, 5)] * 3,
        }
    )
    supply = pl.DataFrame(
        {
            "store_id": ["S1", "S2"],
            "product_id": ["P1", "P1"],
            "lead_time_mean_days": [2.5, 7.0],
        }
    )
    orders = build_orders(plan, supply)
    assert orders.orders["order_number"].to_list() == [
        "PO-20260105-DEFAULT-S1",
        "PO-20260105-DEFAULT-S2",
    ]
    assert orders.orders["expected_delivery"].to_list() == [
        dt.date(2026, 1, 8),
        dt.date(2026, 1, 12),
    ]
    assert orders.orders["order_total"].to_list() == [4.5, 1.33]
