"""Promotions files (`ingest promotions`): rules, flags, every store, idempotence, forecasts."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from forecasting.data import load_panel
from warehouse.cli import main
from warehouse.db import WarehouseError, query, reading
from warehouse.ingest import ingest_promotions, ingest_sales_panel
from warehouse.ingest.promotions import FLAG_DISCOUNT_PCT, PromotionColumns
from warehouse.ingest.sales_panel import PanelColumns

PLAN = """shop,product_id,start_date,end_date,pct_off
S1,A,2024-01-05,2024-01-08,20
,A,2024-02-01,,
S1,B,2024-01-09,2024-01-02,5
S1,C,bad,,5
S1,D,2024-01-01,,150
S1,A,2024-01-05,2024-01-09,25
"""


def _panel(tmp_path: Path) -> Path:
    """A daily two-store panel through 2024-01-31, loaded by the real loader."""
    rows = "".join(
        f"{dt.date(2024, 1, 1) + dt.timedelta(days=d)},{store},A,{3 + d % 4}\n"
        for d in range(31)
        for store in ("S1", "S2")
    )
    source = tmp_path / "panel.csv"
    source.write_text("date,store,item,sales\n" + rows)
    db = tmp_path / "w.duckdb"
    ingest_sales_panel(db, source, PanelColumns("date", "store", "item", "sales"))
    return db


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_promotions_load_with_their_rules_flags_and_every_store(tmp_path: Path) -> None:
    """Named columns; a blank store means every store, a blank last day the first day only, a
    blank discount a flag; bad rows quarantined by reason; a second load adds nothing."""
    db = _panel(tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN)
    columns = PromotionColumns(store="shop", discount="pct_off")
    report = ingest_promotions(db, plan, columns)
    assert (report.rows_accepted, report.rows_quarantined) == (2, 4)
    assert report.quarantine_reasons == {
        "end_before_start": 1,
        "bad_date": 1,
        "bad_discount": 1,
        "duplicate_key": 1,
    }
    assert any("recorded as flags at 10%" in note for note in report.notes)
    with reading(db) as con:
        rows = query(
            con,
            "SELECT store_id, product_id, start_date, end_date, discount_pct FROM fct_promotion "
            "ORDER BY start_date",
        ).rows()
    assert rows == [
        ("S1", "A", dt.date(2024, 1, 5), dt.date(2024, 1, 8), 20.0),
        (None, "A", dt.date(2024, 2, 1), dt.date(2024, 2, 1), FLAG_DISCOUNT_PCT),
    ]
    again = ingest_promotions(db, plan, columns)
    assert (again.rows_added, again.rows_already_loaded) == (0, 2)


def test_forecasts_read_a_loaded_plan_as_known_ahead(tmp_path: Path) -> None:
    """The forecasting panel carries the past promotion in S1 only and the planned February
    one (every store) in the horizon, on their own days."""
    db = _panel(tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text(PLAN)
    ingest_promotions(db, plan, PromotionColumns(store="shop", discount="pct_off"))
    panel = load_panel(db, dt.date(2024, 1, 31), horizon=7, active_days=None)
    day = {d: t for t, d in enumerate(panel.dates.astype("datetime64[D]").astype(object))}
    s1, s2 = (list(panel.store_id).index(s) for s in ("S1", "S2"))
    assert panel.promo[s1, day[dt.date(2024, 1, 5)]] == 20.0
    assert panel.promo[s2, day[dt.date(2024, 1, 5)]] == 0.0
    february = len(panel.dates)  # 2024-02-01, the first day after the history
    assert panel.promo[s1, february] == panel.promo[s2, february] == FLAG_DISCOUNT_PCT
    assert panel.promo[:, february + 1].max() == 0.0


@pytest.mark.parametrize(
    ("text", "columns", "message"),
    [
        (
            "product,start_date\nA,2024-01-05\n",
            PromotionColumns(),
            "missing column(s) 'product_id'",
        ),
        (
            "product_id,start_date\nA,2024-01-05\n",
            PromotionColumns(discount="pct_off"),
            "missing column(s) 'pct_off'",
        ),
        ("product_id,start_date\nA,someday\n", PromotionColumns(), "no row passed"),
        ("product_id,start_date\nA,2024-01-05\n", PromotionColumns(start=""), "start column"),
    ],
)
def test_a_bad_promotions_file_is_refused_with_the_warehouse_unchanged(
    text: str, columns: PromotionColumns, message: str, tmp_path: Path
) -> None:
    db = _panel(tmp_path)
    before = _sha(db)
    plan = tmp_path / "plan.csv"
    plan.write_text(text)
    with pytest.raises(WarehouseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ingest_promotions(db, plan, columns)
    assert _sha(db) == before


def test_the_cli_loads_promotions_under_the_file_s_own_names(tmp_path: Path, capsys) -> None:
    db = _panel(tmp_path)
    plan = tmp_path / "plan.csv"
    plan.write_text("sku,from,to\nA,2024-01-10,2024-01-12\n")
    args = ["--db", str(db), "ingest", "promotions", str(plan), "--product-col", "sku"]
    assert main([*args, "--start-col", "from", "--end-col", "to"]) == 0
    out = capsys.readouterr().out
    assert "no discount column: recorded as flags" in out.replace("promotion(s) with ", "")
    assert "every promotion applies to every store" in out


def test_a_flag_column_loads_the_rows_marked_yes_as_one_day_promotions(tmp_path: Path) -> None:
    """Favorita's shape: a sales file with `onpromotion` per row; yes rows are promotions, no
    rows (and blanks) are skipped and counted, anything else is quarantined with its row."""
    db = _panel(tmp_path)
    sales = tmp_path / "train.csv"
    sales.write_text(
        "date,store_nbr,item_nbr,unit_sales,onpromotion\n"
        "2024-01-03,S1,A,4,True\n2024-01-04,S1,A,5,False\n2024-01-04,S2,A,5,\n"
        "2024-01-05,S2,A,6,1\n2024-01-06,S2,A,6,maybe\n"
    )
    columns = PromotionColumns("item_nbr", "date", store="store_nbr", flag="onpromotion")
    report = ingest_promotions(db, sales, columns)
    assert (report.rows_read, report.rows_accepted) == (5, 2)
    assert report.quarantine_reasons == {"bad_flag": 1}
    assert any(
        "2 row(s) not on promotion (onpromotion says no): skipped" in n for n in report.notes
    )
    with reading(db) as con:
        rows = query(
            con, "SELECT store_id, start_date, end_date FROM fct_promotion ORDER BY 1, 2"
        ).rows()
        bad = query(con, "SELECT row_number FROM quarantine WHERE reason = 'bad_flag'")
    assert rows == [
        ("S1", dt.date(2024, 1, 3), dt.date(2024, 1, 3)),
        ("S2", dt.date(2024, 1, 5), dt.date(2024, 1, 5)),
    ]
    assert bad["row_number"].to_list() == [5]
