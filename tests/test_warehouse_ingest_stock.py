"""Inventory snapshots and supply parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.db import WarehouseError, query, reading, scalar
from warehouse.defaults import SUPPLY_DEFAULTS
from warehouse.ingest import ingest_inventory, ingest_supply


def test_inventory_loads_replaces_and_keeps_negative_on_hand(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELFWISE_DATE_MAX", "2031-12-31")  # its 2030 dates are deliberate
    csv = tmp_path / "stock.csv"
    csv.write_text(
        "store_id,product_id,snapshot_date,on_hand_units,on_order_units\n"
        "S001,P00001,2030-01-01,5,0\n"
        "S001,P00002,2030-01-01,-2,12\n"
        "S001,P00003,2030-01-01,lots,0\n"
        "S001,P00004,2030-02-30,1,0\n"  # no such day
    )
    report = ingest_inventory(demo_db, csv)
    assert report.rows_added == 2
    assert report.quarantine_reasons == {"bad_on_hand": 1, "bad_date": 1}
    csv.write_text("store_id,product_id,snapshot_date,on_hand_units\nS001,P00001,2030-01-01,7\n")
    again = ingest_inventory(demo_db, csv)
    assert again.rows_added == 0  # replaced, not added
    with reading(demo_db) as con:
        rows = query(
            con,
            "SELECT product_id, on_hand_units, on_order_units FROM fct_inventory "
            "WHERE snapshot_date = DATE '2030-01-01' ORDER BY product_id",
        )
    assert rows.rows() == [("P00001", 7.0, 0.0), ("P00002", -2.0, 12.0)]


def test_stock_takes_slash_dates_and_refuses_a_file_with_no_good_row(
    demo_db: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "us.csv"  # month/day/year: 06/30 tells the order
    csv.write_text(
        "store_id,product_id,snapshot_date,on_hand_units\n"
        "S001,P00001,06/30/2026,4\nS001,P00002,07/01/2026,6\n"
    )
    assert ingest_inventory(demo_db, csv).rows_added == 2
    with reading(demo_db) as con:
        days = query(
            con,
            "SELECT snapshot_date::VARCHAR AS d FROM raw_inventory "
            "WHERE store_code = 'S001' AND product_code IN ('P00001', 'P00002') "
            "AND snapshot_date BETWEEN DATE '2026-06-30' AND DATE '2026-07-01' ORDER BY 1",
        )["d"]
    assert days.to_list() == ["2026-06-30", "2026-07-01"]
    before = demo_db.read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("store_id,product_id,snapshot_date,on_hand_units\nS001,P00001,2026-06-31,4\n")
    with pytest.raises(WarehouseError, match=r"first bad_date: row 1, column 'snapshot_date'"):
        ingest_inventory(demo_db, bad)
    supply = tmp_path / "supply.csv"
    supply.write_text("product_id,lead_time_mean_days\nP00001,-3\n")
    with pytest.raises(WarehouseError, match=r"no row passed the checks \(bad_lead_time_mean_days"):
        ingest_supply(demo_db, supply)
    assert demo_db.read_bytes() == before  # nothing written


def test_supply_resolution_store_then_product_then_default(demo_db: Path, tmp_path: Path) -> None:
    csv = tmp_path / "supply.csv"
    csv.write_text(
        "product_id,store_id,lead_time_mean_days,case_pack\n"
        "P00003,,3,6\n"  # every store
        "P00003,S001,9,\n"  # one store: most specific wins
        "P00004,,-4,1\n"  # negative lead time: rejected
    )
    report = ingest_supply(demo_db, csv)
    assert report.quarantine_reasons == {"bad_lead_time_mean_days": 1}
    with reading(demo_db) as con:
        rows = query(
            con,
            """SELECT store_id, lead_time_mean_days, case_pack, param_source
                             FROM dim_supply WHERE product_id = 'P00003' ORDER BY store_id""",
        )
        assert scalar(con, "SELECT count(*) FROM dim_supply WHERE param_source = 'default'") == 0
    s001, s002 = rows.rows()
    # the store row has no case pack: that field falls back to the product's all-store row
    assert s001[1:] == (9.0, 6.0, "store_product")
    # the demo's remote store (the last one, S002 here) has its own rows, which stay most specific
    assert s002[3] == "store_product"
    assert s002[1] != 3.0


def test_supply_defaults_apply_without_a_supply_file(tmp_path: Path) -> None:
    from tests.conftest import SAMPLES
    from warehouse.ingest import ingest_sales_panel
    from warehouse.ingest.sales_panel import PanelColumns

    db = tmp_path / "p.duckdb"
    ingest_sales_panel(
        db, SAMPLES / "store_item_sample.csv", PanelColumns("date", "store", "item", "sales")
    )
    with reading(db) as con:
        row = query(con, "SELECT * FROM dim_supply LIMIT 1").row(0, named=True)
    assert row["param_source"] == "default"
    assert row["lead_time_mean_days"] == SUPPLY_DEFAULTS["lead_time_mean_days"]


def test_supply_without_parameter_columns_is_refused(tmp_path: Path, demo_db: Path) -> None:
    csv = tmp_path / "s.csv"
    csv.write_text("product_id,colour\nP00001,red\n")
    with pytest.raises(WarehouseError, match="no supply parameter column"):
        ingest_supply(demo_db, csv)
    with reading(demo_db) as con:
        assert scalar(con, "SELECT count(*) FROM raw_supply WHERE source = 'supply'") == 0
