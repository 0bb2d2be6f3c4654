"""AppTest of the pages that show other packages' outputs once they exist, on the small demo:
the inventory page with a real reorder plan and simulation, recommendations with a real trained
model (one epoch), forecasts with a real forecast run (about 25 s together on 2 idle cores).
The Data page's full refresh (train + forecast + plan) is the heavy variant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from forecasting.engine import DEFAULT_MODELS
from services.pipeline import STEPS, steps
from tests.conftest import HEAVY, copy_warehouse
from tests.test_app import (  # noqa: F401 - fixture
    APP,
    TIMEOUT_S,
    downloaded,
    downloads,
    open_tab,
)

REPO = Path(__file__).resolve().parents[1]
#: The whole refresh pipeline takes minutes on 2 cores: full form only.
pytestmark = pytest.mark.usefixtures("loopback_app")  # SHELFWISE_AUTH=0 needs loopback
needs_heavy = pytest.mark.skipif(
    not HEAVY, reason="runs the whole pipeline; SHELFWISE_HEAVY=1 runs it"
)


def open_app(monkeypatch: pytest.MonkeyPatch, db: Path, page: str) -> AppTest:
    monkeypatch.setenv("SHELFWISE_DB", str(db))
    monkeypatch.setenv("SHELFWISE_AUTH", "0")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    if page != "overview":
        at.switch_page(f"pages/{page}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def planned_db(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with a reorder plan and a simulation, made by the real pipeline steps."""
    db = tmp_path_factory.mktemp("planned") / "demo.duckdb"
    shutil.copyfile(demo_db_master, db)
    for step in steps("inventory"):
        step.run(db, False)
    return db


def test_inventory_order_review_edit_approve_export_and_simulation(
    monkeypatch,
    planned_db: Path,
    downloads,  # noqa: F811 - the fixture imported above
) -> None:
    from forecasting.inventory.api import simulation_summary, what_to_order
    from forecasting.inventory.orders import purchase_orders

    at = open_app(monkeypatch, planned_db, "inventory")
    todo = what_to_order(planned_db)
    metrics = {m.label: m.value for m in at.metric}
    assert todo.height > 0 and metrics["Lines"] == f"{todo.height:,}"
    # one order per supplier x store, suppliers from dim_supply (the grouping of `plan --export`)
    expected = purchase_orders(planned_db).orders
    assert metrics["Orders"] == f"{expected.height:,}"
    assert not at.get("download_button")  # nothing to export before approval
    order = at.selectbox(key="inv_order").value
    editor = at.dataframe[-1]
    assert editor.proto.editing_mode  # the order's lines are editable
    lines = editor.value
    first = lines["product_id"].iloc[0]
    at.session_state[f"inv_edit_{order}"] = {
        "edited_rows": {0: {"quantity": 7}, 1: {"quantity": 0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="inv_approve").click().run()
    assert not at.exception
    assert any("approved" in s.value for s in at.success)
    csv = downloaded(at, downloads).decode().splitlines()
    assert csv[0] == (
        "supplier,order_number,store_id,line,product_id,description,quantity,unit_cost,line_value"
    )
    parts = order.split("-")  # PO-<date>-<supplier>-<store>
    supplier, store = "-".join(parts[2:-1]), parts[-1]
    assert expected.filter(supplier_id=supplier, store_id=store).height == 1
    assert csv[1].startswith(f"{supplier},{order},") and f",{first}," in csv[1]
    assert ",7," in csv[1]  # the edited quantity
    assert len(csv) == 1 + (len(lines) - 1) + 1  # the zeroed line dropped, one total row
    assert "ORDER TOTAL" in csv[-1]
    at.session_state["inv_tab"] = "Service-level simulation"
    at.run()
    policies = set(simulation_summary(planned_db).filter(scope="overall")["policy"])
    shown = [df.value for df in at.dataframe if "policy" in df.value.columns]
    assert shown and set(shown[0]["policy"]) == policies


def test_order_grid_has_no_raw_floats_or_timestamps(monkeypatch, planned_db: Path) -> None:
    import json

    at = open_app(monkeypatch, planned_db, "inventory")
    for grid in at.dataframe:
        config = json.loads(grid.proto.columns)
        frame = grid.value
        for column in frame.columns:
            assert column in config, f"{column}: no column_config"
            assert "_" not in config[column].get("label", "_"), f"{column}: raw header"
            kind = str(frame[column].dtype)
            if kind.startswith(("float", "int")):
                shown = config[column]["type_config"]
                assert shown.get("format"), f"{column}: raw number"
                if shown["format"] == "percent":  # one decimal: never "69%" beside "67.2%"
                    assert shown.get("step") == 0.001, f"{column}: decimals vary"
            assert not kind.startswith("datetime") or config[column]["type_config"]["type"] in (
                "date",
                "datetime",
            ), column


def test_overview_alerts_what_to_order_today(monkeypatch, planned_db: Path) -> None:
    at = open_app(monkeypatch, planned_db, "overview")
    assert any(w.value.startswith("To order today") for w in at.warning)
    assert any("out of date" in w.value for w in at.warning)  # the demo ends before today


@pytest.fixture(scope="module")
def trained_db(trained_demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with a model from `python -m recsys train --epochs 1` (a private copy)."""
    return copy_warehouse(trained_demo_master, tmp_path_factory.mktemp("trained") / "demo.duckdb")


def test_recommendations_page_with_a_trained_model(
    monkeypatch,
    trained_db: Path,
    downloads,  # noqa: F811 - the fixture imported above
) -> None:
    at = open_app(monkeypatch, trained_db, "recommendations")
    caption = " ".join(c.value for c in at.caption)  # what really makes the lists
    assert "Lists by the LightGBM ranker of model v1" in caption
    assert "similar products by its two-tower item vectors" in caption
    recs = at.dataframe[0].value
    assert len(recs) == 20 and {"product_id", "score", "reason"} <= set(recs.columns)
    history = at.dataframe[1].value  # the customer's history, ids hidden in its narrow column
    assert len(history) > 0
    assert list(history.columns)[:4] == ["sold_at", "description", "units", "revenue"]
    assert "product_id" not in history
    widths = {c: v.get("width") for c, v in json.loads(at.dataframe[1].proto.columns).items()}
    assert widths["sold_at"] and widths["units"] and widths["revenue"]  # sized to fit, not cut
    assert json.loads(at.dataframe[1].proto.columns)["units"]["label"] == "Units"
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    low, high = chart["layout"]["xaxis"]["range"]  # the axis spans the list's own scores
    scores = recs["score"]
    assert low <= scores.min() and high > scores.max()
    assert (low > 0) == ("axis starts at" in chart["layout"]["xaxis"]["title"]["text"])
    at.slider(key="rec_k").set_value(5).run()
    assert len(at.dataframe[0].value) == 5
    category = at.dataframe[0].value["category"].iloc[-1]  # has at least one eligible product
    at.multiselect(key="rec_incl").set_value([category]).run()
    assert not at.exception
    only = at.dataframe[0].value
    assert len(only) >= 1 and set(only["category"]) == {category}
    assert downloaded(at, downloads).decode().startswith("rank,product_id")
    at.session_state["rec_tab"] = "Bulk list"
    at.run()
    at.radio(key="rec_bulk_source").set_value("Segment").run()
    at.toggle(key="rec_bulk_go").set_value(True).run()
    assert not at.exception
    bulk = [df.value for df in at.dataframe if "customer_id" in df.value.columns]
    assert bulk and len(bulk[0]) > 0
    monkeypatch.setenv("SHELFWISE_PSEUDONYM_KEY", "a test key that is long enough")
    at.checkbox(key="rec_pseudo").check().run()
    exported = downloaded(at, downloads, index=-1).decode().splitlines()
    assert exported[0].startswith("customer_id") and exported[1].startswith("anon_")
    assert "category" in exported[0] and "unit_price" in exported[0]  # to check rules against
    preview = [df.value for df in at.dataframe if "customer_id" in df.value.columns][0]
    assert preview["customer_id"].str.startswith("anon_").all()  # the preview too


def test_similar_products_follow_the_business_rules(
    monkeypatch,
    trained_db: Path,
    downloads,  # noqa: F811 - the fixture imported above
) -> None:
    at = open_app(monkeypatch, trained_db, "recommendations")
    at.session_state["rec_tab"] = "Similar products"
    at.run()
    before = at.dataframe[0].value
    assert len(before) == 20 and before["category"].nunique() > 1
    kept = before["category"].iloc[0]
    at.multiselect(key="rec_incl").set_value([kept]).run()
    assert not at.exception
    after = at.dataframe[0].value
    assert len(after) >= 1 and set(after["category"]) == {kept}
    assert list(after["rank"]) == list(range(1, len(after) + 1))
    assert downloaded(at, downloads).decode().startswith("rank,product_id")


@pytest.fixture(scope="module")
def forecast_db(outputs_demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with a real forecast run (`python -m forecasting run --prophet-series 0
    --horizon 14`, shared with the API tests: see `outputs_demo_master`), a private copy."""
    return copy_warehouse(outputs_demo_master, tmp_path_factory.mktemp("forecast") / "demo.duckdb")


def test_forecasts_page_with_a_real_forecast(monkeypatch, forecast_db: Path) -> None:
    from forecasting.api import load_forecast

    at = open_app(monkeypatch, forecast_db, "forecasts")
    assert len(at.get("plotly_chart")) >= 1
    caption = " ".join(c.value for c in at.caption)
    shown_model = caption.split("Model: **")[1].split("**")[0]
    assert shown_model and "_" not in shown_model  # a human model name, not a code
    notes = caption + " ".join(w.value for w in at.warning)  # the drivers' note among them
    assert not [code for code in DEFAULT_MODELS if "_" in code and code in notes]
    total = load_forecast(
        forecast_db,
        store_id=at.selectbox(key="fc_store").value,
        product_id=at.selectbox(key="fc_product").value,
    )["yhat"].sum()
    assert f"{total:,.0f} units forecast" in caption
    at.radio(key="fc_level").set_value("Total").run()
    assert not at.exception
    grand = load_forecast(forecast_db)["yhat"].sum()
    assert f"{grand:,.0f} units forecast" in " ".join(c.value for c in at.caption)
    assert grand > total


def test_forecasts_backtest_chart_first_table_on_demand(
    monkeypatch, forecast_db: Path, tmp_path: Path
) -> None:
    import datetime as dt

    import polars as pl

    from forecasting.backtest import BacktestConfig, BacktestReport, save_backtest

    metrics = {k: [0.5, 0.7] for k in ("mase", "rmsse", "bias", "pinball", "coverage_80")}
    table = pl.DataFrame(
        {
            "model": ["ets", "seasonal_naive"],
            "segment": ["all", "all"],
            "frequency": ["D", "D"],
            "n_series": [12, 12],
            "wape": [0.4, 0.6],
            **metrics,
            "coverage_95": [0.9, 0.9],
        }
    )
    db = copy_warehouse(forecast_db, tmp_path / "demo.duckdb")
    save_backtest(db, BacktestReport(table, []), BacktestConfig(until=dt.date(2026, 1, 1)))
    at = open_app(monkeypatch, db, "forecasts")
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    bars = [t["y"] for f in figures for t in f["data"] if t.get("type") == "bar"]
    wanted = ["Exponential smoothing", "Seasonal naive"]  # human model names, best first
    assert any(list(y) == wanted for y in bars), bars
    grids = len(at.dataframe)  # the table is a lazy tab: no data grid until it is opened
    at.session_state["fc_backtest_view"] = "Table"
    at.run()
    assert not at.exception and len(at.dataframe) == grids + 1
    assert at.dataframe[-1].value.shape[0] == 2


@pytest.mark.heavy
@needs_heavy
def test_data_page_refresh_runs_the_pipeline_with_progress(monkeypatch, demo_db: Path) -> None:
    """The Refresh tab runs every built step (train, forecast, plan) and shows the log."""
    at = open_tab(open_app(monkeypatch, demo_db, "data"), "data_tab", "Refresh")
    before = demo_db.stat().st_ino
    at.button(key="data_refresh").click().run(timeout=1800)
    assert not at.exception
    assert at.status and at.status[0].label == "Refresh done"
    log = " ".join(m.value for m in at.markdown)  # one line per step: "<step>: ran (<why>)"
    assert all(f"{step.name}: ran (" in log for step in STEPS), log
    assert demo_db.stat().st_ino != before  # a new file was swapped in
    at.switch_page("pages/inventory.py").run()
    assert not at.exception and any(m.label == "Lines" for m in at.metric)  # the plan shows
