"""AppTest runs of every page on a small demo warehouse (sign-in off, as the local demo)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from recsys.applicable import NO_CUSTOMERS
from services.dashboard import data_range
from warehouse.db import query, reading
from warehouse.readers import LiveWarehouse

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT_S = 120


@pytest.fixture()
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[str | None, bytes]]:
    """file id -> (file name, bytes) of every file built during the test (`.deferred`: the
    callables of deferred download buttons, by their placeholder id)."""

    class Files(dict):
        deferred: dict[str, tuple[str | None, Callable[[], bytes]]]

    files: Files = Files()
    original = MemoryMediaFileStorage.load_and_get_id

    def capture(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            files[file_id] = (filename, path_or_data)
        return file_id

    def defer(self, data, mimetype, coordinates, file_name=None, **kwargs):
        file_id = original_defer(self, data, mimetype, coordinates, file_name=file_name, **kwargs)
        deferred[file_id] = (file_name, data)
        return file_id

    deferred: dict[str, tuple[str | None, Callable[[], bytes]]] = {}
    original_defer = MediaFileManager.add_deferred
    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", capture)
    monkeypatch.setattr(MediaFileManager, "add_deferred", defer)
    files.deferred = deferred
    return files


@pytest.fixture()
def app_factory(
    monkeypatch: pytest.MonkeyPatch, demo_db_master: Path, loopback_app: None
) -> Callable[..., AppTest]:
    """Build an AppTest of app.py on the small demo warehouse with sign-in off."""

    def make(db: Path = demo_db_master) -> AppTest:
        monkeypatch.setenv("SHELFWISE_DB", str(db))
        monkeypatch.setenv("SHELFWISE_AUTH", "0")
        return AppTest.from_file(APP, default_timeout=TIMEOUT_S)

    return make


def open_page(at: AppTest, page: str) -> AppTest:
    at.run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """Open tab `label` of the lazy tabs `key` (only the open tab's content is built)."""
    at.session_state[key] = label
    at.run()
    assert not at.exception, at.exception
    return at


def downloaded(at: AppTest, files: dict[str, tuple[str | None, bytes]], index: int = 0) -> bytes:
    """The bytes behind a download button, built as a click would (deferred `data=`)."""
    proto = at.get("download_button")[index].proto
    if proto.deferred_file_id:  # what a click does: run the callable
        name, build = files.deferred[proto.deferred_file_id]
        data = build()
        files[f"clicked-{len(files)}"] = (name, data)
        return data
    url = proto.url
    file_id = url.rsplit("/", 1)[-1].split(".")[0]
    return files[file_id][1]


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_overview_kpis_trend_movers_and_store_filter(app_factory, downloads) -> None:
    at = open_page(app_factory(), "overview")
    assert at.title[0].value == "Overview"
    values = metric_values(at)
    assert set(values) == {
        "Revenue",
        "Units",
        "Orders",
        "Average basket",
        "Stockout rate",
        "Inventory value",
        "Days of cover",
    }
    assert values["Revenue"].startswith("£")
    assert len(at.get("plotly_chart")) == 2, "trend and movers charts"
    assert not at.dataframe  # the movers' tables are a lazy tab: no data grid on first render
    at.session_state["overview_movers_view"] = "Table"
    at.run()
    assert len(at.dataframe) == 2  # rising and falling
    assert len(at.get("plotly_chart")) == 1  # the movers chart is not built behind the table
    assert "Local demo" in " ".join(
        m.value for m in at.sidebar.markdown
    ) or "Sign-in off" in " ".join(m.value for m in at.sidebar.markdown)
    everything = values["Revenue"]
    store = at.sidebar.multiselect(key="flt_stores")
    first_store = store.options[0].split()[0]  # options show "S001 Leeds", values are ids
    store.set_value([first_store]).run()
    assert not at.exception
    one_store = metric_values(at)["Revenue"]
    assert one_store != everything  # the filter reaches the KPIs
    assert float(one_store.strip("£").replace(",", "")) < float(
        everything.strip("£").replace(",", "")
    )
    # the filter persists on another page
    at.switch_page("pages/sales.py").run()
    assert at.sidebar.multiselect(key="flt_stores").value == [first_store]


def test_overview_exports_every_format(app_factory, downloads) -> None:
    at = open_page(app_factory(), "overview")
    assert not downloads  # nothing is built until a download is clicked
    fmt = at.selectbox(key="overview_export_fmt")
    csv = downloaded(at, downloads)
    assert csv.decode().splitlines()[0].startswith("direction,product_id")
    fmt.set_value("Excel").run()
    assert len(downloads) == 1  # choosing a format builds nothing
    xlsx = downloaded(at, downloads)
    assert xlsx[:2] == b"PK" and len(xlsx) > 1000
    at.selectbox(key="overview_export_fmt").set_value("Parquet").run()
    frame = pl.read_parquet(io.BytesIO(downloaded(at, downloads)))
    assert {"direction", "product_id", "change"} <= set(frame.columns) and frame.height > 0


def test_movers_slider_changes_list_length(app_factory) -> None:
    at = open_page(app_factory(), "overview")
    at.session_state["overview_movers_view"] = "Table"
    at.run()
    before = sum(len(df.value) for df in at.dataframe)
    at.slider(key="overview_movers_n").set_value(3).run()
    after = sum(len(df.value) for df in at.dataframe)
    assert after <= 6 < before


def test_sales_breakdown_drilldown_heatmap_and_product(app_factory) -> None:
    at = open_page(app_factory(), "sales")
    assert at.title[0].value == "Sales explorer"
    charts = len(at.get("plotly_chart"))  # tabs render only when open
    at.session_state["sales_tab"] = "By store / category / product"
    at.run()
    table = at.dataframe[0].value
    categories = set(table.iloc[:, 0])
    at.radio(key="sales_by").set_value("store").run()
    stores = set(at.dataframe[0].value.iloc[:, 0])
    assert stores != categories and all(label.startswith("S") for label in stores)
    at.radio(key="sales_by").set_value("product").run()
    drill = at.selectbox(key="sales_drill")
    drill.set_value(drill.options[1]).run()
    assert not at.exception
    product_labels = at.dataframe[0].value.iloc[:, 0].tolist()
    assert product_labels and all(label.startswith("P") for label in product_labels)
    charts += len(at.get("plotly_chart"))
    for tab in ("Seasonality", "Product detail"):
        at.session_state["sales_tab"] = tab
        at.run()
        assert not at.exception
        charts += len(at.get("plotly_chart"))
    assert charts >= 4  # trend, breakdown, heatmap, product detail
    assert {m.label for m in at.metric} >= {"Category", "List price", "Units in period"}


def test_sql_workbench_runs_refuses_and_keeps_history(app_factory, downloads) -> None:
    at = open_page(app_factory(), "sql")
    at.toggle(key="sql_plain").set_value(True).run()
    assert at.title[0].value == "SQL workbench"
    assert not at.dataframe  # the schema is a picker and a markdown list: no grid to load
    picker = at.selectbox(key="sql_schema_table")
    assert picker.value == "fct_sales_daily" and picker.options[0].startswith("dim_")
    assert picker.options[0].endswith(" · mart")  # marts first
    picker.set_value("dim_store").run()
    assert any(c.value.startswith("mart · 2 rows · 4 columns") for c in at.caption)
    listed = next(m.value for m in at.markdown if m.value.startswith("| column | type |"))
    names = [line.split("`")[1] for line in listed.splitlines()[2:]]
    assert names == ["store_id", "store_name", "region", "source"]
    at.toggle(key="sql_tables_grid").set_value(True).run()  # every table, on demand
    assert "fct_sales_daily" in at.dataframe[0].value["table_name"].tolist()
    at.toggle(key="sql_tables_grid").set_value(False).run()
    at.text_area(key="sql_text").set_value(
        "SELECT store_id, count(*) AS n FROM dim_store GROUP BY ALL ORDER BY 1"
    ).run()
    at.button(key="sql_run").click().run()
    assert not at.exception
    results = [df.value for df in at.dataframe if list(df.value.columns) == ["store_id", "n"]]
    assert len(results) == 1 and results[0]["n"].tolist() == [1, 1]  # 2 stores at scale 0.1
    assert downloaded(at, downloads).decode().startswith("store_id,n")
    at.text_area(key="sql_text").set_value("DROP TABLE dim_store").run()
    at.button(key="sql_run").click().run()
    assert not at.exception
    assert any("Refused" in e.value for e in at.error)
    assert not [df for df in at.dataframe if list(df.value.columns) == ["store_id", "n"]]
    assert any("history (2)" in e.label for e in at.expander)  # the old result is gone
    at.button(key="sql_hist_1").click().run()  # click-to-rerun the first, good query
    assert [df for df in at.dataframe if list(df.value.columns) == ["store_id", "n"]]


def test_sql_row_cap_shows_truncated_notice(app_factory) -> None:
    at = open_page(app_factory(), "sql")
    at.toggle(key="sql_plain").set_value(True).run()
    at.text_area(key="sql_text").set_value("SELECT * FROM range(500)").run()
    at.number_input(key="sql_max_rows").set_value(10).run()
    at.button(key="sql_run").click().run()
    assert any("Truncated" in w.value for w in at.warning)


@pytest.mark.parametrize(
    ("page", "command"),
    [
        ("recommendations", "python -m recsys train"),
        ("forecasts", "python -m forecasting run"),
        ("inventory", "python -m forecasting plan"),
    ],
)
def test_pages_without_models_show_the_command(app_factory, page: str, command: str) -> None:
    at = open_page(app_factory(), page)
    assert not at.exception
    texts = " ".join(i.value for i in at.info)
    assert command in texts


def test_a_panel_without_customers_says_why_it_has_no_lists(
    app_factory, store_item_sample_db: Path
) -> None:
    """A store x item panel: the Recommendations page names what is missing (a command would
    fail), the Overview shows unknown revenue and orders as n/a, and the sidebar asks for no
    refresh of a model that cannot be made."""
    at = open_page(app_factory(store_item_sample_db), "recommendations")
    assert not at.exception
    info = " ".join(i.value for i in at.info)
    assert f"No recommendations for this data: {NO_CUSTOMERS}." in info
    assert "python -m recsys train" not in info
    assert not any("older than the data" in w.value and "Model" in w.value for w in at.warning)
    overview = open_page(app_factory(store_item_sample_db), "overview")
    cards = {m.label: m.value for m in overview.metric}
    assert cards["Revenue"] == cards["Orders"] == cards["Average basket"] == "n/a"
    assert cards["Units"] not in ("n/a", "0")


def test_sales_explorer_of_a_panel_without_prices_charts_units(
    app_factory, store_item_sample_db: Path
) -> None:
    """No prices: the time chart offers units only (an empty £ chart before), the breakdown
    ranks by units and the heatmap is in units."""
    at = open_page(app_factory(store_item_sample_db), "sales")
    measure = at.radio(key="sales_measure_units")
    assert measure.options == ["units"] and "no prices" in measure.help
    assert at.get("plotly_chart")
    open_tab(at, "sales_tab", "By store / category / product")
    at.radio(key="sales_by").set_value("store").run()
    table = at.dataframe[0].value
    assert table["units"].is_monotonic_decreasing and "revenue" not in table.columns
    open_tab(at, "sales_tab", "Seasonality")
    assert any(c.value.startswith("Units per day") for c in at.caption)


def test_a_weekly_panel_trends_by_week_or_month_only(app_factory, tmp_path: Path) -> None:
    """A weekly panel has no daily sales: Overview and the Sales explorer offer week and month
    grains only, and chart its weeks (whole weeks: no "partial" note); Forecasts shows its history
    in weeks."""
    from datetime import date, timedelta

    from warehouse.cli import main as warehouse_main
    from warehouse.ingest.sales_panel import PanelColumns, ingest_args

    week0 = date(2024, 1, 5)
    rows = ["date,store,item,sales"] + [
        f"{week0 + timedelta(weeks=w)},1,{item},{5 + w % 4}" for w in range(30) for item in (1, 2)
    ]
    source = tmp_path / "weekly.csv"
    source.write_text("\n".join(rows) + "\n")
    db = tmp_path / "weekly.duckdb"
    assert (
        warehouse_main(ingest_args(db, source, PanelColumns("date", "store", "item", "sales"))) == 0
    )
    at = open_page(app_factory(db), "overview")
    assert [o.content for o in at.get("button_group")[0].proto.options] == ["week", "month"]
    assert at.get("plotly_chart")
    assert not any("partly inside" in c.value for c in at.caption), "its weeks are whole"
    at.switch_page("pages/sales.py").run()
    assert not at.exception, at.exception
    assert at.radio(key="sales_grain").options == ["week", "month"]
    assert at.get("plotly_chart")
    from forecasting.cli import main as forecasting_main

    assert (
        forecasting_main(["--db", str(db), "run", "--horizon", "4", "--prophet-series", "0"]) == 0
    )
    at.switch_page("pages/forecasts.py").run()
    assert not at.exception, at.exception
    assert at.slider(key="fc_history_weeks").label == "History shown (weeks)"


def test_inventory_of_a_panel_without_stock_shows_the_levels_to_set(
    app_factory, store_item_sample_db: Path, downloads
) -> None:
    """Sales but no stock: nothing can be suggested, and the page says why instead of "nothing
    to order"; it shows the plan's levels (exportable) and, per product, the levels as cards."""
    from forecasting.inventory.plan import run_plan

    run_plan(store_item_sample_db)
    at = open_page(app_factory(store_item_sample_db), "inventory")
    info = " ".join(i.value for i in at.info)
    assert "No stock on hand is loaded" in info and "ingest inventory" in info
    assert not any("Nothing to order" in s.value for s in at.success)
    levels = at.dataframe[0].value
    assert {"reorder_point", "safety_stock", "order_qty"} <= set(levels.columns)
    assert (levels["reorder_point"] > 0).all()
    data = downloaded(at, downloads)
    assert data.decode().splitlines()[0].startswith("store_id,product_id,description")
    open_tab(at, "inv_tab", "Per product")
    cards = metric_values(at)
    assert set(cards) == {"Reorder point", "Safety stock", "Order quantity", "Demand per day"}
    assert all(v != "n/a" for v in cards.values())
    assert any("No stock history" in i.value for i in at.info)


def test_data_page_ingests_a_file_and_picks_up_the_new_warehouse(
    app_factory, demo_db: Path
) -> None:
    live = LiveWarehouse(demo_db)
    cursor = live.cursor()
    stores = data_range(cursor).stores
    cursor.close()
    at = open_page(app_factory(demo_db), "data")
    assert at.title[0].value == "Data & models"
    assert not at.dataframe and not at.metric  # lazy tabs: only the ingest form is built
    assert metric_values(open_tab(at, "data_tab", "Data quality"))["Loads"] == "0"
    open_tab(at, "data_tab", "Ingest a file")
    at.selectbox(key="data_kind").set_value("inventory").run()
    csv = (
        "store_id,product_id,snapshot_date,on_hand_units,on_order_units\n"
        "S001,P00001,2026-10-30,5,0\nS001,P00002,not-a-date,3,0\n"
    )
    at.file_uploader(key="data_upload").set_value(("stock.csv", csv.encode(), "text/csv")).run()
    at.button(key="data_load").click().run()
    assert not at.exception
    assert any("Loaded stock.csv" in s.value for s in at.success)
    assert "quarantined" in at.code[0].value
    open_tab(at, "data_tab", "Data quality")
    assert metric_values(at)["Loads"] == "1"  # new file generation seen without a restart
    assert metric_values(at)["Rows quarantined"] == "1"
    assert stores >= 1


def test_data_page_loads_one_shop_s_sales_lines(app_factory, demo_db: Path) -> None:
    """The sales-panel form: store column left blank (one shop), "add them up" ticked."""
    at = open_page(app_factory(demo_db), "data")
    open_tab(at, "data_tab", "Ingest a file")
    at.selectbox(key="data_kind").set_value("sales-panel").run()
    at.text_input(key="data_sales_panel_store_col").set_value("").run()
    at.checkbox(key="data_sum_lines").check().run()
    csv = "date,item,sales\n2026-10-01,P00001,2\n2026-10-01,P00001,3\n"
    at.file_uploader(key="data_upload").set_value(("till.csv", csv.encode(), "text/csv")).run()
    at.button(key="data_load").click().run()
    assert not at.exception and not at.error
    assert "1 row repeated" in at.code[0].value
    with reading(demo_db) as con:
        units = query(con, "SELECT sum(quantity) AS u FROM fct_sales WHERE store_id = 'MAIN'")
    assert units["u"][0] == 5


def test_data_page_names_an_invoice_file_s_columns_and_declares_absent_ones(
    app_factory, demo_db: Path
) -> None:
    """A transactions file (no invoice, no quantity) loads through the form's column names;
    every kind's form renders its own fields."""
    at = open_page(app_factory(demo_db), "data")
    for kind in ("promotions", "products", "supply", "inventory", "sales-panel", "online-retail"):
        at.selectbox(key="data_kind").set_value(kind).run()
        assert not at.exception, kind
        if kind == "products":
            assert at.text_input(key="data_products_product_col").value == "product_id"
    names = "stock_code=article_id, invoice_date=t_dat, invoice=, quantity="
    at.text_input(key="data_online_retail_columns").set_value(names).run()
    csv = "t_dat,customer_id,article_id,price\n2026-10-30,C9,P00001,1.5\n2026-10-30,C9,P00001,1.5\n"
    at.file_uploader(key="data_upload").set_value(("tx.csv", csv.encode(), "text/csv")).run()
    at.button(key="data_load").click().run()
    assert not at.exception and not at.error
    assert "no quantity column" in at.code[0].value
    with reading(demo_db) as con:
        units = query(
            con, "SELECT sum(quantity) AS u FROM fct_sales WHERE order_id = 'C9@2026-10-30'"
        )
    assert units["u"][0] == 2


def test_data_page_rejects_a_bad_file_and_changes_nothing(app_factory, demo_db: Path) -> None:
    before = demo_db.read_bytes()
    at = open_page(app_factory(demo_db), "data")
    at.selectbox(key="data_kind").set_value("inventory").run()
    at.file_uploader(key="data_upload").set_value(
        ("x.csv", b"nothing,useful\n1,2\n", "text/csv")
    ).run()
    at.button(key="data_load").click().run()
    assert not at.exception
    assert any("warehouse unchanged" in e.value for e in at.error)
    assert demo_db.read_bytes() == before


def test_data_page_shows_and_sets_the_holiday_calendar(app_factory, demo_db: Path) -> None:
    """The ingest tab names the calendar (GB for the demo); an unknown code is refused with the
    file untouched; US rebuilds dim_date with US holidays."""
    at = open_page(app_factory(demo_db), "data")
    assert any("holiday(s) in dim_date" in c.value and "GB" in c.value for c in at.caption)
    before = demo_db.read_bytes()
    at.text_input(key="data_holiday_country").set_value("XX").run()
    at.button(key="data_holiday_set").click().run()
    assert not at.exception
    assert any("Calendar unchanged" in e.value and "'XX'" in e.value for e in at.error)
    assert demo_db.read_bytes() == before
    at.text_input(key="data_holiday_country").set_value("US").run()
    at.button(key="data_holiday_set").click().run()
    assert any(s.value.startswith("Holiday calendar: US") for s in at.success)
    with reading(demo_db) as con:
        names = query(con, "SELECT holiday_name FROM dim_date WHERE is_holiday")["holiday_name"]
    assert "Thanksgiving Day" in set(names) and "Boxing Day" not in set(names)
