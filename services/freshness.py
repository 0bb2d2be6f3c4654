"""Freshness of the pipeline's outputs: which steps must re-run, why, and what the sidebar shows.

One rule, used by `python -m services pipeline`, the Data page's refresh and the app's sidebar:
an output is stale when a generation of one of its inputs (`STEP_INPUTS`) differs from the one
recorded in its stamp (`warehouse.freshness`). Inputs are the warehouse's data generations
(newest load id of sales, stock, supply, promotions), the served model version and the latest
forecast run.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from forecasting.outputs import (
    has_backtest,
    has_forecasts,
    history_too_short,
    plan_exists,
    simulation_done,
)
from recsys.applicable import customers_missing
from recsys.export import has_recommendations
from recsys.manifest import has_model, latest_manifest
from warehouse.db import reading, run_named, table_exists
from warehouse.freshness import DataState, Stamp, data_state, latest_stamps

#: The inputs each pipeline step reads (its stamp records their generations).
STEP_INPUTS: dict[str, tuple[str, ...]] = {
    "recsys train": ("sales",),
    "recsys export": ("sales", "model"),
    "forecast run": ("sales", "promotions", "calendar"),
    "forecast backtest summary": ("sales", "promotions", "calendar"),  # load_panel reads both
    "inventory plan": ("sales", "stock", "supply", "forecast"),
    "inventory simulate": ("sales", "stock", "supply"),
}

#: How a reason names each step's output ("new sales since the model was trained").
_MADE: dict[str, str] = {
    "recsys train": "the model was trained",
    "recsys export": "the recommendations were written",
    "forecast run": "the forecast was made",
    "forecast backtest summary": "the backtest was run",
    "inventory plan": "the plan was made",
    "inventory simulate": "the simulation was run",
}

_NEWS: dict[str, str] = {
    "sales": "new sales",
    "stock": "new stock snapshots",
    "supply": "new supply parameters",
    "promotions": "new promotions",
    "calendar": "another holiday calendar",
    "model": "another model version is served",
    "forecast": "a new forecast run",
}

#: Step name -> whether its output exists in a warehouse. The pipeline's steps use these same
#: checks; all are light (no torch, no scipy) so the sidebar can ask on every page run.
OUTPUT_CHECKS: dict[str, Callable[[str | os.PathLike[str]], bool]] = {
    "recsys train": has_model,
    "recsys export": has_recommendations,
    "forecast run": has_forecasts,
    "forecast backtest summary": has_backtest,
    "inventory plan": plan_exists,
    "inventory simulate": simulation_done,
}

#: Steps that may legitimately write nothing (short histories): a matching stamp is enough.
OPTIONAL_OUTPUT: frozenset[str] = frozenset({"inventory simulate"})

Mode = Literal["changed", "missing", "force"]


@dataclass(frozen=True)
class Decision:
    """Whether a step runs, and why (one line for the log)."""

    run: bool
    reason: str


@dataclass(frozen=True)
class Snapshot:
    """Everything the rule compares, read once.

    Attributes:
        data: the warehouse's data generations.
        inputs: input name -> generation now (data inputs, "model", "forecast").
        stamps: output name -> its newest stamp.
        model: the served model's manifest (pinned, else newest good), or None.
        forecast_until: last day of history of the latest forecast run.
        forecast_created_at: when the latest forecast run was made (UTC).
        plan_as_of: the date of the current reorder plan.
    """

    data: DataState
    inputs: dict[str, str | None]
    stamps: dict[str, Stamp]
    model: dict[str, object] | None
    forecast_until: dt.date | None
    forecast_created_at: dt.datetime | None
    plan_as_of: dt.date | None


def snapshot(db: str | os.PathLike[str]) -> Snapshot:
    """Read the generations, stamps and output dates of warehouse `db` (one read connection)."""
    with reading(db) as con:
        data = data_state(con)
        stamps = latest_stamps(con)
        run_id = until = created = plan_as_of = None
        if table_exists(con, "forecast_runs"):
            row = run_named(con, "freshness/outputs").row(0, named=True)
            run_id, until, created = (
                row["forecast_run_id"],
                row["forecast_until"],
                row["forecast_created_at"],
            )
        if table_exists(con, "reorder_plan"):
            plan_as_of = run_named(con, "freshness/plan_as_of")["plan_as_of"][0]
    model = latest_manifest(db)
    inputs: dict[str, str | None] = {
        **data.generations,
        "model": f"v{int(str(model['version'])):04d}" if model else None,
        "forecast": run_id,
    }
    return Snapshot(data, inputs, stamps, model, until, created, plan_as_of)


def recorded_inputs(step: str, snap: Snapshot) -> dict[str, str | None] | None:
    """The generations the step's current output was built from (None: no record).

    A model trained outside the pipeline (`python -m recsys train`) is known by the data
    generation in its manifest.
    """
    stamp = snap.stamps.get(step)
    if stamp is not None:
        return stamp.inputs
    if step == "recsys train" and snap.model and snap.model.get("data_generation"):
        return {"sales": str(snap.model["data_generation"])}
    return None


def decide(step: str, has_output: bool, snap: Snapshot, mode: Mode = "changed") -> Decision:
    """Whether `step` must run under `mode`, with the reason.

    Args:
        step: a name in `STEP_INPUTS`.
        has_output: whether the step's output exists now.
        snap: the current `snapshot`.
        mode: "changed" (inputs changed or output missing), "missing" (output missing only),
            "force" (always).
    """
    if mode == "force":
        return Decision(True, "forced (--force)")
    if mode == "missing":
        return Decision(not has_output, "no output yet" if not has_output else "output exists")
    recorded = recorded_inputs(step, snap)
    if recorded is None:
        if not has_output:
            return Decision(True, "no output yet")
        return Decision(True, "no record of the data it was built from")
    changed = [name for name in STEP_INPUTS[step] if recorded.get(name) != snap.inputs.get(name)]
    if changed:
        news = " and ".join(_NEWS[name] for name in changed)
        return Decision(True, f"{news} since {_MADE[step]}")
    if not has_output and step not in OPTIONAL_OUTPUT:
        return Decision(True, "output missing though its inputs are unchanged")
    return Decision(False, "up to date")


def step_inputs(step: str, snap: Snapshot) -> dict[str, str | None]:
    """The generations to record in `step`'s stamp."""
    return {name: snap.inputs.get(name) for name in STEP_INPUTS[step]}


#: Step family (a step name's first word) -> why the warehouse's data cannot feed its steps, or
#: None. Light checks: the sidebar asks on every page run.
APPLICABILITY: dict[str, Callable[[str | os.PathLike[str]], str | None]] = {
    "recsys": customers_missing,
    "forecast": history_too_short,
}


def not_applicable(db: str | os.PathLike[str]) -> dict[str, str]:
    """{family: reason} of the step families this warehouse's data cannot feed (no customer
    ids: no recommendations; too short a history: no forecasts)."""
    reasons = {family: check(db) for family, check in APPLICABILITY.items()}
    return {family: reason for family, reason in reasons.items() if reason}


@dataclass(frozen=True)
class OutputFreshness:
    """One line of the sidebar: an output, its as-of and whether it is older than the data."""

    label: str
    as_of: str
    stale: bool
    reason: str


@dataclass(frozen=True)
class FreshnessReport:
    """Data as-of and every output's freshness, for the sidebar and the Data page."""

    data_as_of: dt.date | None
    loaded_at: dt.datetime | None
    outputs: tuple[OutputFreshness, ...]

    @property
    def stale(self) -> tuple[OutputFreshness, ...]:
        """The outputs older than the data."""
        return tuple(o for o in self.outputs if o.stale)


def _fmt_time(value: object) -> str:
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, str):
        return value.replace("T", " ")[:16] + " UTC"
    return "-"


def freshness_report(
    db: str | os.PathLike[str], has_output: Callable[[str], bool] | None = None
) -> FreshnessReport:
    """Data as-of, model trained-at, forecast as-of, plan as-of and recommendations, with the
    same staleness rule as the pipeline.

    Args:
        db: the warehouse.
        has_output: step name -> whether its output exists (default: `OUTPUT_CHECKS` on `db`).
    """
    exists = has_output or (lambda step: OUTPUT_CHECKS[step](db))
    snap = snapshot(db)
    lines: list[OutputFreshness] = []
    model = snap.model
    skipped = not_applicable(db)
    if "recsys" in skipped and not model:
        reason = skipped["recsys"]
        lines.append(OutputFreshness("Model trained", "not for this data", False, reason))
    elif model:
        pinned = " (pinned)" if _pinned(db) else ""
        data_range = model.get("data_range") or {}
        last = data_range.get("last_sale") if isinstance(data_range, dict) else None
        as_of = f"v{model['version']}{pinned}, {_fmt_time(model.get('trained_at'))}"
        if last:
            as_of += f", sales to {last}"
        lines.append(_line("Model trained", as_of, "recsys train", snap, True))
    else:
        lines.append(OutputFreshness("Model trained", "none yet", True, "no model yet"))
    specs = (
        ("Forecast as of", snap.forecast_until, "forecast run"),
        ("Plan as of", snap.plan_as_of, "inventory plan"),
    )
    for label, date, step in specs:
        if date is None and (family := step.split()[0]) in skipped:
            lines.append(OutputFreshness(label, "not for this data", False, skipped[family]))
        elif date is None:
            lines.append(OutputFreshness(label, "none yet", True, "no output yet"))
        else:
            lines.append(_line(label, str(date), step, snap, exists(step)))
    stamp = snap.stamps.get("recsys export")
    if exists("recsys export"):
        when = _fmt_time(stamp.built_at) if stamp else "unknown"
        lines.append(_line("Recommendations", when, "recsys export", snap, True))
    return FreshnessReport(snap.data.last_sale, snap.data.loaded_at, tuple(lines))


def _line(label: str, as_of: str, step: str, snap: Snapshot, exists: bool) -> OutputFreshness:
    decision = decide(step, exists, snap)
    return OutputFreshness(label, as_of, decision.run, decision.reason)


def _pinned(db: str | os.PathLike[str]) -> bool:
    from recsys.pin import read_pin

    return read_pin(db) is not None
