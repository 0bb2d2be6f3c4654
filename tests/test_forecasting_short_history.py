"""Short histories, weekly panels, returns, Prophet on every series, as-of forecasts."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from forecasting.asof import ASOF_SCHEMA, forecast_as_of
from forecasting.cli import _prophet
from forecasting.data import build_panel
from forecasting.engine import AUTO, PROPHET_ALL, EngineConfig, forecast_panel, min_history
from forecasting.features import FEATURE_NAMES, PanelStats, build_features
from forecasting.models.lgbm import LightGBMConfig, LightGBMGlobal
from tests.conftest import ingest_panel
from warehouse.db import query, reading, sql_text
from warehouse.ingest.sales_panel import PanelColumns

REPO = Path(__file__).resolve().parents[1]
FAST = LightGBMConfig(n_estimators=30, max_rows=20_000, num_threads=1)
WEEK0 = dt.date(2021, 1, 1)  # a Friday: Friday-ending weeks


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, cwd=REPO, timeout=600
    )


def _weekly_rows(weeks: int, series: int = 6, seed: int = 5) -> list[tuple]:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(series):
        base = rng.uniform(5, 40)
        for w in range(weeks):
            season = 1 + 0.4 * np.sin(2 * np.pi * w / 52)
            rows.append(
                (
                    f"S{i % 2}",
                    f"P{i}",
                    WEEK0 + dt.timedelta(weeks=w),
                    float(rng.poisson(base * season)),
                )
            )
    return rows


def weekly_warehouse(folder: Path, weeks: int, series: int = 6) -> Path:
    """A weekly panel of `weeks` x `series` (`_weekly_rows`) written as CSV in `folder` and
    loaded through the real ingest; the warehouse path."""
    csv = folder / "weekly.csv"
    frame = pl.DataFrame(
        _weekly_rows(weeks, series), schema=["shop", "sku", "week", "qty"], orient="row"
    )
    frame.write_csv(csv)
    db = folder / "w.duckdb"
    ingest_panel(db, csv, PanelColumns("week", "shop", "sku", "qty"))
    return db


@pytest.fixture(scope="module")
def weekly_117(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weekly warehouse with 117 weeks of history, through the real ingest."""
    return weekly_warehouse(tmp_path_factory.mktemp("w117"), 117)


def test_weekly_117_weeks_forecasts_26_ahead_with_calibrated_intervals(weekly_117: Path) -> None:
    done = _cli(
        "forecasting", "--db", str(weekly_117), "run", "--horizon", "26", "--prophet-series", "0"
    )
    assert done.returncode == 0, done.stderr
    assert "intervals: conformal" in done.stdout
    with reading(weekly_117) as con:
        fc = query(con, "SELECT * FROM forecasts ORDER BY store_id, product_id, date")
        run = query(con, "SELECT * FROM forecast_runs")
    assert fc.height == 6 * 26
    assert fc["date"][0] == WEEK0 + dt.timedelta(weeks=117)
    assert (fc["yhat_lo_80"] <= fc["yhat"]).all() and (fc["yhat"] <= fc["yhat_hi_80"]).all()
    assert (fc["yhat_hi_80"] > fc["yhat_lo_80"]).mean() > 0.9
    method = run["calibration"][0]
    assert method.startswith("conformal, 1 window of 26") and "residuals" in method
    assert run["frequency"][0] == "W"


def test_too_short_a_history_is_refused_in_one_line(weekly_117: Path) -> None:
    before = weekly_117.stat().st_mtime_ns
    done = _cli(
        "forecasting", "--db", str(weekly_117), "run", "--horizon", "60", "--prophet-series", "0"
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"needs at least {min_history(60)} weeks of history" in lines[0]
    assert "found 117" in lines[0]
    assert weekly_117.stat().st_mtime_ns == before


def test_quiet_run_prints_no_progress_bars(weekly_117: Path) -> None:
    """`--quiet` silences the bars (tqdm reads TQDM_DISABLE only when imported, so the CLI
    must tell each bar itself), before or after the sub-command."""
    for argv in (("--quiet", "run"), ("run", "--quiet")):
        done = _cli("forecasting", "--db", str(weekly_117), *argv, "--horizon", "8")
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr[-500:]
        assert done.stdout.startswith("forecast run ")


def test_a_tiny_panel_gets_model_based_intervals() -> None:
    hist = pl.DataFrame(
        _weekly_rows(30, series=1), schema=["store_id", "product_id", "ds", "y"], orient="row"
    )
    panel = build_panel(hist, "W", WEEK0 + dt.timedelta(weeks=29), horizon=8)
    res = forecast_panel(
        panel, panel.y.shape[1] - 1, EngineConfig(horizon=8, prophet_series=0, lightgbm=FAST)
    )
    assert res.calibration.startswith("model-based")
    lo, hi = res.forecasts[AUTO].interval(80)
    assert (hi > lo).all() and np.isfinite(res.forecasts[AUTO].yhat).all()


def test_weekly_features_lags_last_year_week_and_holiday() -> None:
    rows = _weekly_rows(70, series=2)
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    christmas = pl.DataFrame({"ds": [dt.date(2021, 12, 25)]})
    panel = build_panel(hist, "W", WEEK0 + dt.timedelta(weeks=69), horizon=10, holidays=christmas)
    stats = PanelStats(panel)
    origin, horizons = 60, np.arange(1, 11)
    rows_ = np.zeros(10, dtype=np.int64)
    codes = np.zeros(panel.n, dtype=np.float32)
    x, s = build_features(panel, stats, rows_, np.full(10, origin), horizons, codes, codes)
    col = {name: x[:, j] for j, name in enumerate(FEATURE_NAMES)}
    y = panel.y[0]
    for k in (2, 3, 4):
        np.testing.assert_allclose(col[f"lag_{k}"], y[origin - k + 1] / s, rtol=1e-5)
    np.testing.assert_allclose(col["last_value"], y[origin] / s, rtol=1e-5)
    target = origin + horizons
    np.testing.assert_allclose(col["last_year"], y[target - 52] / s, rtol=1e-5)
    assert (col["day_of_week"] == -1).all()
    week_of = panel.dates[0] + np.timedelta64(7, "D") * target
    doy = (week_of - week_of.astype("datetime64[Y]").astype("datetime64[D]")).astype(int)
    np.testing.assert_array_equal(col["week_of_year"], doy // 7)
    # the week ending Friday 2021-12-31 holds Christmas day (Saturday 25th)
    hol_week = (dt.date(2021, 12, 31) - WEEK0).days // 7
    assert panel.holiday[hol_week] and panel.holiday.sum() == 1
    at_hol = build_features(panel, stats, rows_, np.full(10, hol_week - 3), horizons, codes, codes)[
        0
    ][:, FEATURE_NAMES.index("is_holiday")]
    np.testing.assert_array_equal(at_hol, (horizons == 3).astype(np.float32))
    early = build_features(panel, stats, rows_, np.full(10, 20), horizons, codes, codes)[0]
    assert np.isnan(early[:, FEATURE_NAMES.index("last_year")]).all()  # no lag 52 yet


def test_negative_and_fractional_values_stay_forecastable() -> None:
    rng = np.random.default_rng(9)
    d0 = dt.date(2024, 1, 1)
    rows = [
        (f"S{i}", "P", d0 + dt.timedelta(days=j), float(np.round(rng.normal(3, 4), 2)))
        for i in range(4)
        for j in range(150)
    ]
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    assert (hist["y"] < 0).any()
    panel = build_panel(hist, "D", d0 + dt.timedelta(days=149), horizon=14)
    assert panel.floor == -np.inf and (panel.y < 0).any()
    res = forecast_panel(panel, 149, EngineConfig(horizon=14, prophet_series=0, lightgbm=FAST))
    for name in ("lightgbm", "ets", AUTO):
        fc = res.forecasts[name]
        assert np.isfinite(fc.yhat).all(), name
        assert not any("fallback" in m for m in fc.model), name
    assert (res.forecasts[AUTO].quantiles[0.05] < 0).any()  # intervals may go below zero
    model = LightGBMGlobal(FAST).fit(panel, 149)
    assert model.objective == "l2"  # tweedie cannot take negative targets


def test_prophet_on_every_series_of_a_tiny_panel() -> None:
    assert _prophet("all") == PROPHET_ALL and _prophet("5") == 5
    d0 = dt.date(2024, 1, 1)
    rng = np.random.default_rng(4)
    rows = [
        ("S", f"P{i}", d0 + dt.timedelta(days=j), float(rng.poisson(5 + 3 * (j % 7 == 5))))
        for i in range(3)
        for j in range(120)
    ]
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    panel = build_panel(hist, "D", d0 + dt.timedelta(days=119), horizon=14)
    res = forecast_panel(
        panel,
        119,
        EngineConfig(
            horizon=14,
            prophet_series=PROPHET_ALL,
            models=("moving_average", "seasonal_naive"),
            lightgbm=FAST,
        ),
    )
    prophet = res.forecasts["prophet"]
    assert prophet.rows.size == panel.n and (prophet.model == "prophet").all()
    assert np.isfinite(prophet.yhat).all()
    assert "prophet_subset" not in res.choice  # Prophet competes on every segment instead


def test_forecast_as_of_ignores_later_history() -> None:
    d0 = dt.date(2024, 1, 1)
    rng = np.random.default_rng(6)
    rows = [
        ("S", f"P{i}", d0 + dt.timedelta(days=j), float(rng.poisson(4)))
        for i in range(5)
        for j in range(200)
    ]
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    cutoff = d0 + dt.timedelta(days=170)
    cfg = LightGBMConfig(horizon=14, n_estimators=20, max_rows=5000, num_threads=1)
    first = forecast_as_of(hist, cutoff, 14, config=cfg)
    later = hist.with_columns(
        pl.when(pl.col("ds") > cutoff).then(500.0).otherwise(pl.col("y")).alias("y")
    )
    second = forecast_as_of(later, cutoff, 14, config=cfg)
    assert dict(first.schema) == ASOF_SCHEMA and first.height == 5 * 14
    assert first["date"].min() == cutoff + dt.timedelta(days=1)
    np.testing.assert_allclose(first["yhat"].to_numpy(), second["yhat"].to_numpy())


def test_forecast_runs_gains_the_calibration_column_on_an_old_warehouse(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "old.duckdb")) as con:
        con.execute("""CREATE TABLE forecast_runs (run_id VARCHAR PRIMARY KEY,
            created_at TIMESTAMP NOT NULL, until DATE NOT NULL, horizon INTEGER NOT NULL,
            models VARCHAR NOT NULL, n_series BIGINT NOT NULL, frequency VARCHAR,
            model_version VARCHAR, choice VARCHAR)""")
        con.execute(
            "INSERT INTO forecast_runs VALUES ('old', now(), DATE '2024-01-01', 7, 'x', "
            "1, 'D', 'v0001', '{}')"
        )
        con.execute(sql_text("forecasting/create_tables"))
        cols = [r[0] for r in con.execute("DESCRIBE forecast_runs").fetchall()]
        assert cols[-1] == "calibration"
        assert con.execute("SELECT calibration FROM forecast_runs").fetchall() == [(None,)]
