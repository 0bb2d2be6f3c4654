"""services.pipeline: the refresh steps in order, each writing its outputs on a real demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from forecasting.inventory.api import load_reorder_plan, simulation_summary
from services.pipeline import STEPS, steps
from warehouse.cli import main as warehouse_main

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
        step.run(demo_db)
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
