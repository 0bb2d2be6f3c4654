"""Daily operations on Online Retail II (issue 17): load part of the year, refresh, load the rest.

The pipeline re-trains, re-forecasts and re-plans after the second load and does nothing on a
third run; a pinned older model is served after a newer one is trained; kept forecast runs are
compared with what sold; exports by RFM segment. Light form: the 12 products with the most lines
(every customer who bought them) and no Prophet series in the refresh (LightGBM and the
statistical models still run); `make test-heavy` runs the whole file. Skips without the data.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from forecasting import refresh as forecast_jobs
from forecasting.drivers import GLOBAL_MODEL, drivers_for_forecast
from forecasting.runs import forecast_vs_actuals, list_runs
from recsys.cli import main as recsys_main
from recsys.service import model_status, recommend_for_customer, serving_state
from recsys.versions import versions_frame
from services.freshness import FreshnessReport
from services.pipeline import freshness, run_pipeline
from tests.conftest import HEAVY
from warehouse.db import query, reading, scalar

ROOT = Path(__file__).resolve().parents[1]
SPLIT = "2010-06-30 23:59:59"  # part 1: up to 30 June 2010; part 2: the rest
LIGHT_PRODUCTS = 12
#: A copy of the warehouse with stale outputs is left here for the sidebar screenshot.
STALE_COPY_ENV = "SHELFWISE_STALE_COPY"


@dataclass
class Daily:
    """What the scenario saw."""

    db: Path
    first: list[str]
    stale: FreshnessReport
    second: list[str]
    third: list[str]
    plan_as_of: tuple[object, object]
    forecast_until: tuple[object, object]
    second_stderr: str  # what the second run (bars=False, as `--quiet`) wrote to stderr


def _split(source: Path, folder: Path) -> tuple[Path, Path]:
    frame = pl.read_parquet(source)
    if not HEAVY:
        top = frame.group_by("StockCode").len().sort(["len", "StockCode"], descending=[True, False])
        frame = frame.filter(pl.col("StockCode").is_in(top["StockCode"].head(LIGHT_PRODUCTS)))
    first, rest = folder / "part1.parquet", folder / "part2.parquet"
    frame.filter(pl.col("InvoiceDate") <= SPLIT).write_parquet(first)
    frame.filter(pl.col("InvoiceDate") > SPLIT).write_parquet(rest)
    return first, rest


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


def _outputs(db: Path) -> tuple[object, object]:
    with reading(db) as con:
        plan = scalar(con, "select max(as_of) from reorder_plan")
        until = scalar(con, "select until from forecast_runs order by created_at desc limit 1")
    return plan, until


@pytest.fixture(scope="module")
def daily(online_retail_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Daily:
    folder = tmp_path_factory.mktemp("daily")
    part1, part2 = _split(online_retail_file, folder)
    db = folder / "or.duckdb"
    # global options after the sub-command (issue 17, item 5)
    done = _cli("warehouse", "ingest", "online-retail", str(part1), "--db", str(db), "--quiet")
    assert done.returncode == 0, done.stderr
    assert "Load report" in done.stdout
    with pytest.MonkeyPatch.context() as patch:
        if not HEAVY:  # the light form skips Prophet's per-series fits
            patch.setattr(forecast_jobs, "REFRESH_PROPHET_SERIES", 0)
        return _scenario(db, part1, part2)


def _scenario(db: Path, part1: Path, part2: Path) -> Daily:
    first = run_pipeline(db)
    before = _outputs(db)
    done = _cli("warehouse", "ingest", "online-retail", str(part2), "--db", str(db), "--quiet")
    assert done.returncode == 0, done.stderr
    stale = freshness(db)
    copy = os.environ.get(STALE_COPY_ENV)
    if copy:
        shutil.copyfile(db, copy)
        shutil.copytree(db.parent / "models", Path(copy).parent / "models", dirs_exist_ok=True)
    quiet = io.StringIO()
    with contextlib.redirect_stderr(quiet):
        second = run_pipeline(db, bars=False)
    after = _outputs(db)
    third = run_pipeline(db)
    return Daily(
        db,
        first,
        stale,
        second,
        third,
        (before[0], after[0]),
        (before[1], after[1]),
        quiet.getvalue(),
    )


def test_a_quiet_refresh_draws_no_progress_bar(daily: Daily) -> None:
    """Every step of the second run ran (new sales) with `bars=False` (`--quiet`): training,
    export and the replay drew no bar (a nightly log stays readable)."""
    assert all(": ran (" in line for line in daily.second), daily.second
    assert "it/s" not in daily.second_stderr and "%|" not in daily.second_stderr


def test_first_run_builds_everything(daily: Daily) -> None:
    assert all(": ran (no output yet)" in line for line in daily.first), daily.first


def test_new_sales_make_every_output_stale_in_the_sidebar_report(daily: Daily) -> None:
    report = daily.stale
    assert report.data_as_of is not None and str(report.data_as_of) > "2010-06-30"
    labels = {o.label: o for o in report.outputs}
    for label in ("Model trained", "Forecast as of", "Plan as of", "Recommendations"):
        assert labels[label].stale, labels[label]
        assert labels[label].reason.startswith("new sales since"), labels[label]


def test_second_run_retrains_reforecasts_and_replans_saying_why(daily: Daily) -> None:
    log = dict(line.split(": ", 1) for line in daily.second)
    assert log["recsys train"] == "ran (new sales since the model was trained)"
    assert log["recsys export"].startswith("ran (new sales")
    assert log["forecast run"] == "ran (new sales since the forecast was made)"
    assert log["inventory plan"].startswith("ran (new sales")
    assert "a new forecast run" in log["inventory plan"]
    plan_before, plan_after = daily.plan_as_of
    until_before, until_after = daily.forecast_until
    assert str(plan_before) <= "2010-06-30" < str(plan_after)
    assert str(until_before) <= "2010-06-30" < str(until_after)


def test_third_run_does_nothing(daily: Daily) -> None:
    assert all(line.endswith(": up to date") for line in daily.third), daily.third
    assert not freshness(daily.db).stale


def test_versions_record_their_data_generation(daily: Daily) -> None:
    versions = versions_frame(daily.db)
    assert versions["version"].to_list()[:2] == [2, 1]
    assert versions["status"].to_list()[:2] == ["serving", "available"]
    gens = versions["data_generation"].to_list()
    assert gens[0] > gens[1]  # time-ordered load ids: v2 saw the second load


def test_pin_serves_the_older_version_until_unpinned(daily: Daily, capsys) -> None:
    db = daily.db
    with reading(db) as con:
        sql = "select customer_id from dim_customer where orders > 2 order by 1 limit 1"
        customer = query(con, sql)["customer_id"][0]
    assert serving_state(db).loaded.version == 2
    assert recsys_main(["pin", "1", "--db", str(db)]) == 0
    assert serving_state(db).loaded.version == 1
    assert model_status(db)["version"] == 1
    assert recommend_for_customer(db, customer, k=5).height == 5
    assert recsys_main(["versions", "--db", str(db)]) == 0
    assert "serving (pinned)" in capsys.readouterr().out
    # the served model changed, so the recommendations table is stale; training is not
    log = dict(line.split(": ", 1) for line in run_pipeline(db))
    assert log["recsys train"] == "up to date"
    assert log["recsys export"] == (
        "ran (another model version is served since the recommendations were written)"
    )
    assert recsys_main(["pin", "7", "--db", str(db)]) == 1
    assert "no such model version" in capsys.readouterr().err
    assert recsys_main(["unpin", "--db", str(db)]) == 0
    assert serving_state(db).loaded.version == 2
    assert model_status(db)["version"] == 2


def test_kept_forecast_runs_beside_what_sold(daily: Daily) -> None:
    runs = list_runs(daily.db)
    assert runs.height >= 2 and runs["kept"].all()
    earlier = forecast_vs_actuals(daily.db)  # default: the run before the latest
    assert earlier["run_id"][0] == runs["run_id"][1]
    known = earlier.filter(pl.col("actual").is_not_null())
    assert known.height > 0 and known["yhat"].sum() > 0 and known["actual"].sum() > 0


def test_drivers_belong_to_the_model_that_made_the_forecast(daily: Daily) -> None:
    with reading(daily.db) as con:
        series = query(con, "select distinct store_id, product_id, model from forecasts")
    for store, product, model in series.head(40).iter_rows():
        view = drivers_for_forecast(daily.db, store, product)
        assert view.forecast_model == model
        assert view.from_forecast_model == (model == GLOBAL_MODEL)
        if model != GLOBAL_MODEL and not view.frame.is_empty():
            assert "global LightGBM model's view" in view.note


def test_export_by_rfm_segment_on_online_retail(daily: Daily, tmp_path: Path) -> None:
    with reading(daily.db) as con:
        segments = query(con, "select segment, count(*) n from dim_customer group by 1")
    assert segments.filter(pl.col("segment").is_null()).height == 0
    segment = segments.sort("n", descending=True)["segment"][0]
    out = tmp_path / "segment.csv"
    args = ["export", "--segment", segment, "--k", "5", "--out", str(out), "--no-table"]
    assert recsys_main([*args, "--db", str(daily.db), "--quiet"]) == 0
    frame = pl.read_csv(out, schema_overrides={"customer_id": pl.String})
    with reading(daily.db) as con:
        members = query(
            con, "select customer_id from dim_customer where segment = $s", {"s": segment}
        )
    assert frame["customer_id"].n_unique() == members.height
    assert set(frame["customer_id"].to_list()) <= set(members["customer_id"].to_list())
