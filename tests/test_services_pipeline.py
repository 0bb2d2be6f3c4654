"""Pipeline steps of the inventory optimizer (forecasting/inventory/cli.py)."""

from __future__ import annotations

from pathlib import Path

from forecasting.inventory.api import load_reorder_plan, simulation_summary
from forecasting.inventory.cli import PIPELINE_STEPS


def test_pipeline_steps_plan_then_simulate(demo_db: Path) -> None:
    assert [step.name for step in PIPELINE_STEPS] == ["inventory plan", "inventory simulate"]
    assert not any(step.is_done(demo_db) for step in PIPELINE_STEPS)
    for step in PIPELINE_STEPS:
        step.run(demo_db)
        assert step.is_done(demo_db)
    assert load_reorder_plan(demo_db).height > 0
    summary = simulation_summary(demo_db)
    assert sorted(summary["policy"]) == ["normal_approx", "rule_of_thumb", "shelfwise"]
    assert summary["target"].to_list() == [0.95] * 3


def test_is_done_is_false_for_a_missing_warehouse(tmp_path: Path) -> None:
    assert not any(step.is_done(tmp_path / "none.duckdb") for step in PIPELINE_STEPS)
