"""services.dashboard, services.catalog, services.exports: KPIs, trends and movers checked
against sums worked out in polars from the fact tables; filters honoured; readers follow an
atomic swap; exports round-trip."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from services import catalog, exports
from services import dashboard as aq
from services.display import sales_measure
from warehouse.db import WarehouseError, execute, query, reading, writing
from warehouse.paths import artifacts_dir
from warehouse.readers import LiveWarehouse


@pytest.fixture(scope="module")
def facts(demo_db_master: Path) -> dict[str, pl.DataFrame]:
    with reading(demo_db_master) as con:
        return {
            "sales": query(
                con, "SELECT s.*, p.category FROM fct_sales s JOIN dim_product p USING (product_id)"
            ),
            "inventory": query(
                con,
                "SELECT i.*, p.category, p.unit_cost FROM fct_inventory i "
                "JOIN dim_product p USING (product_id)",
            ),
        }


@pytest.fixture(scope="module")
def live(demo_db_master: Path) -> LiveWarehouse:
    return LiveWarehouse(demo_db_master)


@pytest.fixture()
def con(live: LiveWarehouse):
    cursor = live.cursor()
    yield cursor
    cursor.close()


def period(facts: dict[str, pl.DataFrame], days: int = 60) -> aq.Filters:
    last = facts["sales"]["sale_date"].max()
    return aq.Filters(last - timedelta(days=days - 1), last)


def test_filters_previous_period_and_validation() -> None:
    f = aq.Filters(date(2026, 3, 1), date(2026, 3, 31), ("S001",), ("Pet",))
    prev = f.previous()
    assert (prev.start, prev.end, prev.days) == (date(2026, 1, 29), date(2026, 2, 28), 31)
    assert prev.stores == ("S001",) and prev.categories == ("Pet",)
    with pytest.raises(WarehouseError, match="after end"):
        aq.Filters(date(2026, 3, 2), date(2026, 3, 1))


def test_a_panel_of_units_shows_revenue_and_orders_as_unknown(store_item_sample_db: Path) -> None:
    """A store x item panel has no prices and no order ids: revenue, orders and basket are
    unknown (None, shown "n/a"), not £0 and one "order" per panel row; units are summed."""
    with reading(store_item_sample_db) as cur:
        last = query(cur, "SELECT max(sale_date) AS d FROM fct_sales")["d"][0]
        units = query(
            cur,
            "SELECT sum(quantity) AS u FROM fct_sales WHERE sale_date > $d",
            {"d": last - timedelta(days=30)},
        )["u"][0]
        kpis = {k.name: k for k in aq.kpis(cur, aq.Filters(last - timedelta(days=29), last))}
    assert kpis["Revenue"].value is None and kpis["Revenue"].previous is None
    assert kpis["Orders"].value is None and kpis["Average basket"].value is None
    assert kpis["Units"].value == pytest.approx(units) and units > 0


def test_a_panel_of_units_ranks_its_movers_by_units(store_item_sample_db: Path) -> None:
    """Without prices the movers rank by the change in units (ranking by revenue ranked
    nothing: every product's revenue change was 0); revenue stays unknown."""
    with reading(store_item_sample_db) as cur:
        last = query(cur, "SELECT max(sale_date) AS d FROM fct_sales")["d"][0]
        f = aq.Filters(last - timedelta(days=29), last)
        prev = f.previous()
        by = query(
            cur,
            "SELECT product_id, sum(CASE WHEN sale_date >= $s THEN quantity ELSE 0 END) "
            "- sum(CASE WHEN sale_date < $s THEN quantity ELSE 0 END) AS change "
            "FROM fct_sales WHERE sale_date BETWEEN $p AND $e GROUP BY 1",
            {"s": f.start, "p": prev.start, "e": f.end},
        )
        movers = aq.movers(cur, f, 3)
    assert set(movers["measure"]) == {"units"}
    assert movers["revenue"].null_count() == movers.height
    down = movers.filter(direction="down")  # December after November: the sample's items fall
    assert down.height == 3
    assert down["change"].to_list() == pytest.approx(by.sort("change")["change"].head(3).to_list())
    assert (down["units"] - down["previous_units"]).to_list() == pytest.approx(
        down["change"].to_list()
    )


def test_a_panel_of_units_breaks_down_by_units(store_item_sample_db: Path) -> None:
    """Without prices the breakdown ranks by units (NULL revenue ordered nothing) and gives
    each label's share of units."""
    with reading(store_item_sample_db) as cur:
        last = query(cur, "SELECT max(sale_date) AS d FROM fct_sales")["d"][0]
        table = aq.breakdown(cur, aq.Filters(last - timedelta(days=29), last), "product", limit=2)
        every = aq.breakdown(cur, aq.Filters(last - timedelta(days=29), last), "store", limit=50)
    assert table.height == 2 and table["revenue"].null_count() == 2
    assert table["units"].to_list() == sorted(table["units"].to_list(), reverse=True)
    assert every["units_share"].sum() == pytest.approx(1.0)
    assert sales_measure(table) == "units"


@pytest.mark.parametrize("narrow", [False, True])
def test_sales_kpis_match_the_fact_table(con, facts, narrow: bool) -> None:
    f = period(facts)
    sales = facts["sales"]
    if narrow:
        store = sales["store_id"].unique().sort()[0]
        category = sales["category"].unique().sort()[0]
        f = aq.Filters(f.start, f.end, (store,), (category,))
        sales = sales.filter(pl.col("store_id") == store, pl.col("category") == category)
    kpis = {k.name: k for k in aq.kpis(con, f)}

    def expected(start: date, end: date) -> dict[str, float]:
        part = sales.filter(pl.col("sale_date").is_between(start, end))
        orders = part.select(pl.coalesce("order_id", "sale_line_id").n_unique()).item()
        return {"revenue": part["revenue"].sum(), "units": part["quantity"].sum(), "orders": orders}

    now, before = expected(f.start, f.end), expected(f.previous().start, f.previous().end)
    assert kpis["Revenue"].value == pytest.approx(now["revenue"])
    assert kpis["Revenue"].previous == pytest.approx(before["revenue"])
    assert kpis["Units"].value == pytest.approx(now["units"])
    assert kpis["Orders"].value == now["orders"]
    assert kpis["Average basket"].value == pytest.approx(now["revenue"] / now["orders"])
    assert kpis["Revenue"].change == pytest.approx(
        (now["revenue"] - before["revenue"]) / before["revenue"]
    )


def test_stock_kpis_match_the_inventory_snapshots(con, facts) -> None:
    f = period(facts)
    inv = facts["inventory"].filter(pl.col("snapshot_date").is_between(f.start, f.end))
    kpis = {k.name: k for k in aq.kpis(con, f)}
    assert kpis["Stockout rate"].value == pytest.approx((inv["on_hand_units"] <= 0).mean())
    last = inv.filter(pl.col("snapshot_date") == inv["snapshot_date"].max())
    on_hand = last["on_hand_units"].clip(lower_bound=0)
    assert kpis["Inventory value"].value == pytest.approx((on_hand * last["unit_cost"]).sum())
    units_per_day = kpis["Units"].value / f.days
    assert kpis["Days of cover"].value == pytest.approx(on_hand.sum() / units_per_day)
    assert not kpis["Stockout rate"].higher_is_better


def test_trend_sums_to_the_period_revenue_at_every_grain(con, facts) -> None:
    f = period(facts, 90)
    total = {k.name: k for k in aq.kpis(con, f)}["Revenue"].value
    for grain in aq.GRAINS:
        frame = aq.trend(con, f, grain)
        assert frame["revenue"].sum() == pytest.approx(total)
    assert aq.trend(con, f, "day").height == f.days
    with pytest.raises(WarehouseError, match="grain"):
        aq.trend(con, f, "hour")


def test_movers_are_the_largest_changes(con, facts) -> None:
    f = period(facts)
    sales = facts["sales"]
    prev = f.previous()
    by = (
        sales.filter(pl.col("sale_date").is_between(prev.start, f.end))
        .group_by("product_id")
        .agg(
            now=pl.col("revenue").filter(pl.col("sale_date") >= f.start).sum(),
            before=pl.col("revenue").filter(pl.col("sale_date") < f.start).sum(),
        )
        .with_columns(change=pl.col("now") - pl.col("before"))
    )
    movers = aq.movers(con, f, 3)
    assert set(movers["measure"]) == {"revenue"}
    up = movers.filter(direction="up")
    down = movers.filter(direction="down")
    assert up["change"].to_list() == pytest.approx(
        by.sort("change", descending=True)["change"].head(3).to_list()
    )
    assert down["change"].to_list() == pytest.approx(by.sort("change")["change"].head(3).to_list())


def test_breakdown_store_filter_and_drilldown(con, facts) -> None:
    f = period(facts)
    stores = aq.breakdown(con, f, "store")
    assert stores["revenue_share"].sum() == pytest.approx(1.0)
    assert stores["units_share"].sum() == pytest.approx(1.0)
    assert sales_measure(stores) == "revenue"
    one = sorted(facts["sales"]["store_id"].unique())[0]
    only = aq.breakdown(con, aq.Filters(f.start, f.end, (one,)), "store")
    assert only.height == 1 and only["label"][0].startswith(one)
    category = facts["sales"]["category"].unique().sort()[0]
    products = aq.breakdown(con, f, "product", drill_category=category, limit=500)
    ids = {label.split()[0] for label in products["label"]}
    in_category = set(facts["sales"].filter(pl.col("category") == category)["product_id"])
    assert ids and ids <= in_category


def test_seasonality_covers_each_day_once(con, facts) -> None:
    f = period(facts, 28)
    heat = aq.seasonality(con, f)
    assert heat.height == 28 and set(heat["day_of_week"]) == set(range(1, 8))


def test_product_detail_and_unknown_product(con, facts) -> None:
    f = period(facts)
    product = facts["sales"]["product_id"].mode()[0]
    item = aq.product_detail(con, product, f)
    expected = facts["sales"].filter(
        pl.col("product_id") == product, pl.col("sale_date").is_between(f.start, f.end)
    )
    assert item.history["units"].sum() == pytest.approx(expected["quantity"].sum())
    assert item.info["product_id"] == product and item.stock.height > 0
    with pytest.raises(WarehouseError, match="not in the warehouse"):
        aq.product_detail(con, "NO-SUCH", f)


def test_schema_browser_and_data_quality(con) -> None:
    tables = catalog.schema_tables(con)
    row = tables.filter(pl.col("table_name") == "dim_store").row(0, named=True)
    assert row["kind"] == "table" and row["rows"] == 2
    cols = catalog.schema_columns(con).filter(pl.col("table_name") == "dim_store")
    assert cols["column_name"].to_list() == ["store_id", "store_name", "region", "source"]
    quality = catalog.data_quality(con)
    assert quality.quarantined_rows == 0 and quality.loads.height == 0


def test_live_warehouse_reopens_after_an_atomic_swap(demo_db: Path) -> None:
    live = LiveWarehouse(demo_db)
    old = live.cursor()
    assert aq.data_range(old).stores == 2
    with writing(demo_db) as con:
        execute(con, "INSERT INTO dim_store VALUES ('S999', 'New', 'North', 'demo')")
    new = live.cursor()
    assert aq.data_range(new).stores == 3 and live.reopened == 2
    assert aq.data_range(old).stores == 2  # a running reader keeps its consistent snapshot


def test_alerts_mention_stockouts(con, facts) -> None:
    f = period(facts)
    messages = aq.alerts(con, f)
    inv = facts["inventory"]
    # one date rule (issue 18): "today" is the latest stock snapshot, whatever the period
    latest = inv.filter(pl.col("snapshot_date") == inv["snapshot_date"].max())
    out = latest.filter(pl.col("on_hand_units") <= 0)
    if out.height:
        assert any(
            f"{out['product_id'].n_unique():,} products in at least one store" in m
            for m in messages
        )


@pytest.mark.parametrize("fmt", list(exports.EXPORT_FORMATS))
def test_exports_round_trip(fmt: str) -> None:
    frame = pl.DataFrame({"customer_id": ["C1", "C2"], "score": [0.5, 0.25]})
    data = exports.export_bytes(frame, fmt)
    back = {"CSV": pl.read_csv, "Excel": pl.read_excel, "Parquet": pl.read_parquet}[fmt](
        io.BytesIO(data)
    )
    assert back.equals(frame)


def test_model_versions_lists_artifacts_newest_first(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    for version in ("v0001", "v0002"):
        folder = artifacts_dir(db, "recsys") / version
        folder.mkdir(parents=True)
        (folder / "meta.json").write_text('{"ndcg_at_10": 0.31, "model": "two-tower"}')
    frame = catalog.model_versions(db)
    assert frame["version"].to_list() == ["v0002", "v0001"]
    assert "ndcg_at_10=0.31" in frame["details"][0]
    assert catalog.model_versions(tmp_path / "none.duckdb").is_empty()


def test_a_weekly_panel_trends_by_its_own_weeks_with_no_day_grain(tmp_path: Path) -> None:
    """A weekly panel (each row the week ending on its date, here Mondays) plots one point per
    source week, starting six days before the row's date (not the calendar week holding it,
    which cut the last week in two and marked it partial), offers no 'day' grain, and its data
    range starts on the first week's first day."""
    from warehouse.cli import main as warehouse_main
    from warehouse.ingest.sales_panel import PanelColumns, ingest_args

    week0 = date(2024, 1, 8)  # a Monday; weeks end on Mondays
    rows = ["date,store,item,sales"] + [
        f"{week0 + timedelta(weeks=w)},1,{item},{10 * item + w}"
        for w in range(12)
        for item in (1, 2)
    ]
    source = tmp_path / "weekly.csv"
    source.write_text("\n".join(rows) + "\n")
    db = tmp_path / "weekly.duckdb"
    assert (
        warehouse_main(ingest_args(db, source, PanelColumns("date", "store", "item", "sales"))) == 0
    )
    last = week0 + timedelta(weeks=11)
    with reading(db) as cur:
        span = aq.data_range(cur)
        assert (span.first_day, span.last_day, span.period_days) == (
            week0 - timedelta(days=6),
            last,
            7,
        )
        assert span.grains == ("week", "month")
        weeks = aq.trend(cur, aq.Filters(week0, last), "week")
        with pytest.raises(WarehouseError, match="weekly"):
            aq.trend(cur, aq.Filters(week0, last), "day")
    assert weeks["period_start"].to_list() == [
        week0 + timedelta(weeks=w, days=-6) for w in range(12)
    ]
    assert weeks["units"].to_list() == [float(30 + 2 * w) for w in range(12)]


def test_store_filter_labels_do_not_repeat_the_id_and_sort_numbers_as_numbers(
    tmp_path: Path, con
) -> None:
    """A panel's stores have no names (the name is the id): "2", not "2 2"; ids 1..10 sort as
    numbers. Named demo stores keep "id name"."""
    from warehouse.cli import main as warehouse_main
    from warehouse.ingest.sales_panel import PanelColumns, ingest_args

    rows = ["date,store,item,sales"] + [
        f"2024-01-{d:02d},{s},1,3" for d in range(1, 29) for s in (10, 2, 1)
    ]
    source = tmp_path / "panel.csv"
    source.write_text("\n".join(rows) + "\n")
    db = tmp_path / "panel.duckdb"
    assert (
        warehouse_main(ingest_args(db, source, PanelColumns("date", "store", "item", "sales"))) == 0
    )
    with reading(db) as cur:
        stores, _ = aq.filter_options(cur)
    assert list(stores.items()) == [("1", "1"), ("2", "2"), ("10", "10")]
    demo_stores, _ = aq.filter_options(con)
    assert all(
        label.startswith(f"{sid} ") and len(label) > len(sid) + 1
        for sid, label in demo_stores.items()
    )
