"""The refresh pipeline after a load: train recommendations, forecast, plan orders.

Each step lives in its own package as a module `<package>.pipeline` exposing
`STEPS: list[PipelineStep]`. Packages not built yet are reported as skipped, so `make run`
works at every stage of the project.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

STEP_MODULES: tuple[str, ...] = ("recsys.pipeline", "forecasting.pipeline")


@dataclass(frozen=True)
class PipelineStep:
    """One refresh step.

    Attributes:
        name: e.g. "recsys train".
        is_done: whether the step's output exists for this warehouse.
        run: does the work (writes its own outputs atomically).
    """

    name: str
    is_done: Callable[[Path], bool]
    run: Callable[[Path], None]


def discover_steps() -> tuple[list[PipelineStep], list[str]]:
    """(available steps in order, names of step modules not present yet)."""
    steps: list[PipelineStep] = []
    missing: list[str] = []
    for module_name in STEP_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if (
                exc.name
                and module_name.startswith(exc.name.split(".")[0])
                and (exc.name == module_name or exc.name == module_name.split(".")[0])
            ):
                missing.append(module_name)
                continue
            raise
        steps.extend(module.STEPS)
    return steps, missing


def run_pipeline(
    db: str | os.PathLike[str],
    *,
    if_missing: bool,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[str]:
    """Run every available step (only the missing ones with `if_missing`). Returns a log."""
    path = Path(db)
    steps, missing = discover_steps()
    log = [f"skipped {m}: not built yet" for m in missing]
    for i, step in enumerate(steps):
        if progress:
            progress(step.name, i, len(steps))
        if if_missing and step.is_done(path):
            log.append(f"{step.name}: up to date")
            continue
        step.run(path)
        log.append(f"{step.name}: done")
    if progress:
        progress("done", len(steps), len(steps))
    return log
