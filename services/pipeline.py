"""The refresh pipeline after a load: train recommendations, forecast, plan orders.

The one orchestration of Shelfwise: it imports the three packages directly and calls their
refresh jobs (`recsys.refresh`, `forecasting.refresh`, `forecasting.inventory.refresh`) in
order. Each job writes its own outputs atomically (a new warehouse file swapped in). By default
only the steps whose inputs changed since their output was made run (`services.freshness`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from forecasting import refresh as forecast_jobs
from forecasting.inventory import refresh as inventory_jobs
from recsys import refresh as recsys_jobs
from recsys.ranker import RankerConfig
from recsys.train import TwoTowerConfig
from services.freshness import (
    OUTPUT_CHECKS,
    FreshnessReport,
    Mode,
    decide,
    freshness_report,
    not_applicable,
    snapshot,
    step_inputs,
)
from warehouse.db import NotApplicableError
from warehouse.freshness import write_stamps

#: `make run` must finish in a few minutes on 2 cores: fewer, capped epochs than the CLI default,
#: and the ranker's windows capped at 4,000 customers each (the scale-1 demo's 19,865 customers
#: made 4.8M rows and 6-7 minutes of boosting).
RECSYS_CONFIG = TwoTowerConfig(epochs=3, max_examples_per_epoch=100_000)
RANKER_CONFIG = RankerConfig(max_users_per_window=4_000)


@dataclass(frozen=True)
class PipelineStep:
    """One refresh step.

    Attributes:
        name: e.g. "recsys train".
        is_done: whether the step's output exists for this warehouse.
        run: does the work (writes its own outputs atomically); its second argument says
            whether it may draw progress bars; it may return a note for the log.
    """

    name: str
    is_done: Callable[[Path], bool]
    run: Callable[[Path, bool], str | None]


def _train(db: Path, bars: bool = True) -> str | None:
    config = replace(RECSYS_CONFIG, show_progress=bars)
    recsys_jobs.train_and_register(
        db, until=None, progress=bars, config=config, ranker_config=RANKER_CONFIG
    )
    return None


def _export(db: Path, bars: bool = True) -> str | None:
    recsys_jobs.export_recommendations(db, k=20, progress=bars)
    return None


def _forecast(db: Path, bars: bool = True) -> str | None:
    return forecast_jobs.forecast_latest(db)  # no bars of its own; the note says how far


def _backtest(db: Path, bars: bool = True) -> str | None:
    forecast_jobs.backtest_last_window(db)
    return None


def _plan(db: Path, bars: bool = True) -> str | None:
    inventory_jobs.plan_latest(db)
    return None


def _simulate(db: Path, bars: bool = True) -> str | None:
    inventory_jobs.simulate_recent(db, progress=bars)
    return None


_RUNS: dict[str, Callable[[Path, bool], str | None]] = {
    "recsys train": _train,
    "recsys export": _export,
    "forecast run": _forecast,
    "forecast backtest summary": _backtest,
    "inventory plan": _plan,
    "inventory simulate": _simulate,
}
#: The steps in running order; whether each is done is `services.freshness.OUTPUT_CHECKS`.
STEPS: tuple[PipelineStep, ...] = tuple(
    PipelineStep(name, OUTPUT_CHECKS[name], run) for name, run in _RUNS.items()
)


def steps(prefix: str = "") -> list[PipelineStep]:
    """The steps whose name starts with `prefix` (all by default), in running order."""
    return [step for step in STEPS if step.name.startswith(prefix)]


def freshness(db: str | os.PathLike[str]) -> FreshnessReport:
    """The sidebar's freshness report (`services.freshness.freshness_report`)."""
    return freshness_report(db)


def run_pipeline(
    db: str | os.PathLike[str],
    *,
    if_missing: bool = False,
    force: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    bars: bool = True,
) -> list[str]:
    """Run the steps whose inputs changed since their output was made; one log line per step.

    Each step is decided just before it runs (a retrained model makes the export stale), and
    after it ran its stamp records the generations it read (`services.freshness`).

    Args:
        db: the warehouse file.
        if_missing: only steps whose output is missing (`make run`).
        force: every step.
        progress: called as (step name, steps done, steps in all) before each step and at the end.
        bars: whether the steps may draw their own progress bars (`--quiet`: no).

    A step whose data cannot feed it (`NotApplicableError`: no customer ids, too short a history) is
    skipped with its reason, and so are the later steps of its package; no stamp is written, so
    it runs once such data is loaded.
    """
    path = Path(db)
    mode: Mode = "force" if force else "missing" if if_missing else "changed"
    log: list[str] = []
    skipped = not_applicable(path)  # family ("recsys", ...) -> why its steps cannot run
    for i, step in enumerate(STEPS):
        if progress:
            progress(step.name, i, len(STEPS))
        family = step.name.split()[0]
        if family in skipped:
            log.append(f"{step.name}: skipped ({skipped[family]})")
            continue
        snap = snapshot(path)
        decision = decide(step.name, step.is_done(path), snap, mode)
        if not decision.run:
            log.append(f"{step.name}: {decision.reason}")
            continue
        try:
            note = step.run(path, bars)
        except NotApplicableError as exc:  # e.g. no customer ids: the other steps still run
            skipped[family] = str(exc)
            log.append(f"{step.name}: skipped ({exc})")
            continue
        write_stamps(path, [(step.name, step_inputs(step.name, snap), None)])
        log.append(f"{step.name}: ran ({decision.reason})" + (f"; {note}" if note else ""))
    if progress:
        progress("done", len(STEPS), len(STEPS))
    return log
