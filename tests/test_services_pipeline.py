"""services.pipeline: the refresh steps in order, each writing its outputs on a real demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from forecasting.inventory.api import load_reorder_plan, simulation_summary
from recsys.applicable import NO_CUSTOMERS
from services.freshness import freshness_report
from services.pipeline import STEPS, run_pipeline, steps
from tests.conftest import ingest_panel
from tests.test_forecasting_short_history import weekly_warehouse
from warehouse.cli import main as warehouse_main
from warehouse.ingest.sales_panel import PanelColumns

ROOT = Path(__file__).resolve().parents[1]


def test_steps_run_top_down_recsys_then_forecast_then_inventory() -> None:
    assert [step.name for step in STEPS] == [
        "recsys train",
        "recsys export",
        "forecast run",
        "forecast backtest summary",
        "inventory plan",
        "inventory simulate",
    ]


def test_pipeline_steps_plan_then_simulate(demo_db: Path) -> None:
    inventory_steps = steps("inventory")
    assert [step.name for step in inventory_steps] == ["inventory plan", "inventory simulate"]
    assert not any(step.is_done(demo_db) for step in inventory_steps)
    for step in inventory_steps:
        step.run(demo_db, False)
        assert step.is_done(demo_db)
    assert load_reorder_plan(demo_db).height > 0
    summary = simulation_summary(demo_db)
    assert sorted(summary["policy"]) == ["normal_approx", "rule_of_thumb", "shelfwise"]
    assert summary["target"].to_list() == [0.95] * 3


def test_is_done_is_false_for_a_missing_warehouse(tmp_path: Path) -> None:
    assert not any(step.is_done(tmp_path / "none.duckdb") for step in STEPS)


def test_warehouse_pipeline_points_to_services(capsys) -> None:
    assert warehouse_main(["pipeline", "--if-missing"]) == 2
    assert "python -m services pipeline" in capsys.readouterr().err


def test_services_cli_help_lists_pipeline_and_users() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "pipeline" in done.stdout and "users" in done.stdout


def test_a_weekly_panel_without_customers_gets_forecasts_and_says_what_it_skipped(
    tmp_path: Path,
) -> None:
    """A store x item weekly panel (no customer ids, weekly sales): recommendations cannot be
    made from it; the pipeline skips those steps with the reason and still forecasts, plans
    reorder points (weeks spread over their days) and replays them; a rerun (quiet, through the
    CLI) draws no bar and tries the skipped ones again."""
    db = weekly_warehouse(tmp_path, 117, series=4)
    log = dict(line.split(": ", 1) for line in run_pipeline(db, bars=False))
    assert log["recsys train"] == f"skipped ({NO_CUSTOMERS})"
    assert log["recsys export"] == log["recsys train"]  # the family's later step says the same
    assert log["forecast run"].startswith("ran") and log["forecast backtest summary"].startswith(
        "ran"
    )
    assert log["inventory plan"].startswith("ran")
    assert log["inventory simulate"].startswith("ran")
    done = subprocess.run(
        [sys.executable, "-m", "services", "pipeline", "--db", str(db), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == ""  # --quiet: no bars, no step notes
    again = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert again["recsys train"] == log["recsys train"]  # tried again: no stamp was written
    assert not again["forecast run"].startswith("ran")  # up to date
    report = freshness_report(db)  # the sidebar: nothing to refresh, and why two are absent
    assert report.stale == ()
    absent = {o.label: o for o in report.outputs if o.as_of == "not for this data"}
    assert absent["Model trained"].reason == NO_CUSTOMERS
    assert "Plan as of" not in absent
    # a US retailer sets its holiday calendar: the forecasts (which read it) are stale, and rerun
    assert warehouse_main(["--db", str(db), "--quiet", "holidays", "--country", "US"]) == 0
    assert [o.label for o in freshness_report(db).stale] == ["Forecast as of"]
    log = dict(line.split(": ", 1) for line in run_pipeline(db, bars=False))
    reason = "another holiday calendar since"
    assert log["forecast run"] == f"ran ({reason} the forecast was made)"
    assert log["forecast backtest summary"] == f"ran ({reason} the backtest was run)"
    assert freshness_report(db).stale == ()


def test_short_histories_forecast_as_far_as_they_allow_and_skip_what_they_cannot(
    tmp_path: Path,
) -> None:
    """20 weeks of a panel: the refresh forecasts 10 weeks ahead (two horizons fit the history)
    and says so; one day of sales: nothing to forecast or replay, said as skipped, exit clean."""
    db = weekly_warehouse(tmp_path, 20, series=3)
    log = dict(line.split(": ", 1) for line in run_pipeline(db, bars=False))
    assert log["forecast run"] == (
        "ran (no output yet); 10 weeks ahead (history of 20 weeks allows no more)"
    )
    assert log["forecast backtest summary"].startswith("ran")
    one_day = tmp_path / "day.csv"
    one_day.write_text("date,store,item,sales\n2017-06-30,1,1,5\n2017-06-30,1,2,3\n")
    db1 = tmp_path / "d1.duckdb"
    ingest_panel(db1, one_day, PanelColumns("date", "store", "item", "sales"))
    log = dict(line.split(": ", 1) for line in run_pipeline(db1, bars=False))
    too_short = "1 day of sales: too little history to learn from (at least 2)"
    assert log["forecast run"] == log["forecast backtest summary"] == f"skipped ({too_short})"
    assert log["inventory simulate"] == "skipped (less than 112 days of sales to replay)"
    forecast = {o.label: o for o in freshness_report(db1).outputs}["Forecast as of"]
    assert (forecast.as_of, forecast.stale, forecast.reason) == (
        "not for this data",
        False,
        too_short,
    )
