"""The freshness path (sidebar, first page) stays light: no torch, no scipy on import or render.

Each check runs in a fresh interpreter, so modules the test process already holds don't hide an
import. Importing torch costs tens of seconds on a busy box and scipy.stats about one; both
used to be pulled in by the sidebar through the refresh jobs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from services.freshness import (
    OUTPUT_CHECKS,
    STEP_INPUTS,
    decide,
    freshness_report,
    snapshot,
    step_inputs,
)
from services.pipeline import STEPS
from tests.conftest import REPO, copy_warehouse
from warehouse.freshness import write_stamps
from warehouse.ingest import ingest_promotions

HEAVY = ("torch", "scipy")
TIMEOUT_S = 180

_AFTER = """
import json, sys
{body}
print(json.dumps({{m: m in sys.modules for m in {heavy!r}}}))
"""

_RENDER_OVERVIEW = """
import os
from streamlit import config
config.set_option("server.address", "127.0.0.1")
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(os.path.abspath("app.py"), default_timeout=120)
at.run()
assert not at.exception, at.exception
assert [t.value for t in at.title] == ["Overview"], [t.value for t in at.title]
"""


def heavy_modules_after(body: str, env: dict[str, str] | None = None) -> dict[str, bool]:
    """Module name -> whether a fresh interpreter holds it after running `body` in the repo."""
    result = subprocess.run(
        [sys.executable, "-c", _AFTER.format(body=body, heavy=HEAVY)],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_sidebar_freshness_block_imports_neither_torch_nor_scipy() -> None:
    loaded = heavy_modules_after("import pages._freshness\nimport services.freshness")
    assert loaded == dict.fromkeys(HEAVY, False)


def test_the_first_render_of_overview_imports_neither_torch_nor_scipy(
    demo_db_master: Path,
) -> None:
    env = {"SHELFWISE_DB": str(demo_db_master), "SHELFWISE_AUTH": "0"}
    loaded = heavy_modules_after(_RENDER_OVERVIEW, env)
    assert loaded == dict.fromkeys(HEAVY, False)


def test_the_pipeline_checks_its_outputs_with_the_light_checks() -> None:
    assert set(OUTPUT_CHECKS) == set(STEP_INPUTS) == {step.name for step in STEPS}
    assert all(step.is_done is OUTPUT_CHECKS[step.name] for step in STEPS)


def test_a_demo_without_outputs_reports_every_output_missing(demo_db_master: Path) -> None:
    report = freshness_report(demo_db_master)
    assert [line.label for line in report.outputs] == [
        "Model trained",
        "Forecast as of",
        "Plan as of",
    ]
    assert all(line.stale for line in report.outputs)
    assert report.data_as_of is not None


def test_a_promotions_plan_makes_the_forecast_and_the_plan_stale(
    outputs_demo_master: Path, tmp_path: Path
) -> None:
    """Forecasts read planned promotions: loading a plan re-runs the forecast (and so the plan)
    at the next refresh, saying why; the recommendations are untouched."""
    db = copy_warehouse(outputs_demo_master, tmp_path / "demo.duckdb")
    current = snapshot(db)  # the outputs as made from this data, stamped as the pipeline does
    write_stamps(db, [(step, step_inputs(step, current), None) for step in STEP_INPUTS])
    assert not decide("forecast run", True, snapshot(db)).run
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "product_id,start_date,end_date,discount_pct\nP00001,2026-11-02,2026-11-08,30\n"
    )
    ingest_promotions(db, plan)
    after = snapshot(db)
    forecast = decide("forecast run", True, after)
    assert forecast.run and forecast.reason == "new promotions since the forecast was made"
    assert decide("forecast backtest summary", True, after).run
    assert not decide("recsys train", True, after).run
