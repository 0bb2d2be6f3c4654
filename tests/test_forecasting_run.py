"""End to end on real warehouses: run, intervals, export, fallback, weekly panels, CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from forecasting.api import backtest_summary, forecast_drivers, load_forecast, load_history
from forecasting.data import build_panel
from forecasting.engine import EngineConfig, apply_fallback
from forecasting.errors import NoForecastError
from forecasting.export import export_forecasts
from forecasting.models.baselines import MovingAverage
from forecasting.models.lgbm import LightGBMConfig
from forecasting.models.prophet import ProphetModel
from forecasting.run import RunConfig, run_forecast
from tests.conftest import ingest_panel
from warehouse.db import query, reading
from warehouse.executors import InlineExecutor
from warehouse.ingest.sales_panel import PanelColumns

REPO = Path(__file__).resolve().parents[1]
FAST = LightGBMConfig(n_estimators=30, max_rows=20_000, num_threads=1)
EXPORT_COLUMNS = [
    "store_id",
    "product_id",
    "date",
    "yhat",
    "yhat_lo_80",
    "yhat_hi_80",
    "yhat_lo_95",
    "yhat_hi_95",
    "model",
]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO, timeout=600
    )


@pytest.fixture(scope="module")
def forecast_db(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo copy with one forecast run (14 days, no Prophet, a small LightGBM)."""
    path = tmp_path_factory.mktemp("fc") / "demo.duckdb"
    path.write_bytes(demo_db_master.read_bytes())
    run_forecast(path, RunConfig(engine=EngineConfig(horizon=14, prophet_series=0, lightgbm=FAST)))
    return path


def test_api_raises_before_any_run(demo_db: Path) -> None:
    with pytest.raises(NoForecastError, match="python -m forecasting run"):
        load_forecast(demo_db)


def test_intervals_are_ordered_and_non_negative(forecast_db: Path) -> None:
    with reading(forecast_db) as con:
        fc = query(con, "SELECT * FROM forecasts")
        active = query(
            con,
            """SELECT count(*) AS n FROM (SELECT DISTINCT store_id, product_id
            FROM fct_sales_daily WHERE units > 0
            AND sale_date > (SELECT max(sale_date) FROM fct_sales_daily) - INTERVAL 90 DAY)""",
        )
    assert fc.height == active["n"][0] * 14
    chain = ["yhat_lo_95", "yhat_lo_80", "yhat", "yhat_hi_80", "yhat_hi_95"]
    quants = ["q_05", "q_10", "q_25", "q_50", "q_75", "q_90", "q_95"]
    for seq in (chain, quants):
        for lo, hi in zip(seq, seq[1:], strict=False):
            assert (fc[lo] <= fc[hi] + 1e-9).all(), (lo, hi)
    assert fc.select(pl.col(chain + quants).min()).row(0)[0] >= 0
    assert fc.select(pl.all().is_null().sum()).sum_horizontal()[0] == 0
    assert (fc["yhat_hi_95"] > fc["yhat_lo_95"]).mean() > 0.5


def test_api_views_and_drivers(forecast_db: Path) -> None:
    with reading(forecast_db) as con:
        one = query(
            con,
            "SELECT store_id, product_id, category FROM forecasts "
            "JOIN dim_product USING (product_id) LIMIT 1",
        ).row(0, named=True)
    item = load_forecast(forecast_db, one["store_id"], one["product_id"])
    assert item.height == 14 and item.columns[:2] == ["date", "yhat"]
    cat = load_forecast(forecast_db, category=one["category"])
    total = load_forecast(forecast_db)
    assert (total["yhat"] >= cat["yhat"] - 1e-9).all()
    assert (cat["yhat"] >= item["yhat"] - 1e-9).all()
    assert (total["yhat_lo_80"] <= total["yhat"]).all()
    assert load_history(forecast_db, category=one["category"]).height > 0
    drivers = forecast_drivers(forecast_db, one["store_id"], one["product_id"])
    assert drivers.height == 7 and "promotion" in drivers["driver"].to_list()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_export_is_complete(forecast_db: Path, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"forecasts{suffix}"
    rows = export_forecasts(forecast_db, out)
    frame = {".csv": pl.read_csv, ".xlsx": pl.read_excel, ".parquet": pl.read_parquet}[suffix](out)
    with reading(forecast_db) as con:
        expected = query(con, "SELECT count(*) AS n FROM forecasts")["n"][0]
    assert rows == frame.height == expected
    assert set(EXPORT_COLUMNS) <= set(frame.columns)
    assert frame.select(pl.col(EXPORT_COLUMNS).is_null().sum()).sum_horizontal()[0] == 0


def test_export_rejects_an_unknown_format(forecast_db: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--out"):
        export_forecasts(forecast_db, tmp_path / "x.json")
    assert not list(tmp_path.iterdir())


def test_a_failing_series_falls_back_to_a_baseline() -> None:
    """Prophet really fails on a series with one day of history; it gets the moving average."""
    d0 = dt.date(2024, 1, 1)
    rows = [("S", "OLD", d0 + dt.timedelta(days=j), float(3 + j % 7)) for j in range(120)]
    rows.append(("S", "NEW", d0 + dt.timedelta(days=119), 5.0))
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    panel = build_panel(hist, "D", d0 + dt.timedelta(days=119), horizon=7)
    end = panel.y.shape[1] - 1
    out = ProphetModel(executor=InlineExecutor()).fit(panel, end).predict(7)
    new = list(panel.product_id).index("NEW")
    assert np.isnan(out[new]).all() and np.isfinite(out[1 - new]).all()
    fallback = MovingAverage().fit(panel, end).predict(7)
    filled, used = apply_fallback("prophet", out, fallback)
    assert used[new] == "moving_average (fallback)" and used[1 - new] == "prophet"
    np.testing.assert_allclose(filled[new], fallback[new])
    np.testing.assert_allclose(filled[1 - new], out[1 - new])


def _weekly_csv(path: Path) -> Path:
    rng = np.random.default_rng(3)
    start = dt.date(2021, 1, 4)
    lines = ["week,shop,sku,qty"]
    for shop in ("A", "B"):
        for sku in ("x1", "x2", "x3"):
            base = rng.uniform(5, 40)
            for w in range(130):
                season = 1 + 0.4 * np.sin(2 * np.pi * w / 52)
                qty = rng.poisson(base * season)
                lines.append(f"{start + dt.timedelta(weeks=w)},{shop},{sku},{qty}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_weekly_panel_run_and_backtest(tmp_path: Path) -> None:
    db = tmp_path / "weekly.duckdb"
    csv = _weekly_csv(tmp_path / "weekly.csv")
    ingest_panel(db, csv, PanelColumns("week", "shop", "sku", "qty"))
    done = _cli("forecasting", "--db", str(db), "run", "--horizon", "8", "--prophet-series", "0")
    assert done.returncode == 0, done.stderr
    with reading(db) as con:
        fc = query(con, "SELECT * FROM forecasts ORDER BY store_id, product_id, date")
    assert fc.height == 6 * 8
    first = fc.filter(pl.col("product_id") == fc["product_id"][0], pl.col("store_id") == "A")
    gaps = first["date"].diff().drop_nulls().dt.total_days().unique().to_list()
    assert gaps == [7]
    assert first["date"][0] == dt.date(2021, 1, 4) + dt.timedelta(weeks=130)
    until = str(dt.date(2021, 1, 4) + dt.timedelta(weeks=121))
    out = tmp_path / "bt.json"
    done = _cli(
        "forecasting",
        "--db",
        str(db),
        "backtest",
        "--until",
        until,
        "--horizon",
        "8",
        "--windows",
        "1",
        "--prophet-series",
        "0",
        "--json",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert {r["frequency"] for r in report["results"]} == {"W"}
    assert {"seasonal_naive", "lightgbm", "auto"} <= {r["model"] for r in report["results"]}
    assert backtest_summary(db).height == len(report["results"])


def test_cli_rejects_a_bad_horizon_and_writes_nothing(demo_db: Path) -> None:
    before = demo_db.stat().st_mtime_ns
    done = _cli("forecasting", "--db", str(demo_db), "run", "--horizon", "0")
    assert done.returncode == 2 and "--horizon" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert demo_db.stat().st_mtime_ns == before
