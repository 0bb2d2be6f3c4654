"""What a replay runs on: `SimConfig` (what to replay, with which plan settings) and
`SimData` (the pairs and their daily demand around the start), read by
`forecasting.inventory.simulate`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np
import polars as pl

from forecasting.inventory.config import PlanConfig
from forecasting.inventory.maths import check_service_level


@dataclass(frozen=True)
class SimConfig:
    """What to replay, and with which plan settings.

    Attributes:
        until: last day of known history; the replay covers the `days` days after it.
        days: length of the replay.
        plan: how every (re-)plan is computed (`PlanConfig`: target, samples, window, seasonal
            ratio, level, scope, policy and review days); `targets` and `measure` are not used
            (the replay measures cycle service against one fixed target).
        replan_days: re-estimate the policies every this many days (from the past only).
        demand_mode: "lost_sales" (unmet demand is lost) or "backorders".
        normal_level: the normal formula's level when it differs from the target (benchmarks
            sweep it to trace that policy's stock / service curve).
    """

    until: date
    days: int
    plan: PlanConfig = field(default_factory=PlanConfig)
    replan_days: int = 7
    demand_mode: Literal["lost_sales", "backorders"] = "lost_sales"
    normal_level: float | None = None

    def __post_init__(self) -> None:
        if self.normal_level is not None:
            check_service_level(self.normal_level, "normal_level")
        if not 7 <= self.days <= 730:
            raise ValueError(f"--days must be between 7 and 730, got {self.days}")
        if not 1 <= self.replan_days <= self.days:
            raise ValueError(f"replan_days must be 1..days, got {self.replan_days}")
        if self.demand_mode not in ("lost_sales", "backorders"):
            raise ValueError(
                f"demand_mode must be lost_sales or backorders, got {self.demand_mode!r}"
            )

    @property
    def service_level(self) -> float:
        """The cycle service target (the plan's)."""
        return self.plan.service_level

    def with_plan(self, **changes: Any) -> SimConfig:
        """A copy with some `PlanConfig` fields changed."""
        return dataclasses.replace(self, plan=dataclasses.replace(self.plan, **changes))


@dataclass(frozen=True)
class SimData:
    """Pairs and their daily demand from `until - history_days + 1` to `until + days`.

    `history_days` None means the plan's window (`SimConfig.plan.window_days`).
    """

    pairs: pl.DataFrame
    demand: np.ndarray  # [n_pairs, history_days + days]
    forecast: tuple[str | None, np.ndarray | None, np.ndarray | None]
    has_stock: bool
    year_ago: np.ndarray | None = None  # [n_pairs, window + days + horizon], 52 weeks earlier
    history_days: int | None = None
    actual: np.ndarray | None = None  # [n_pairs, days] served, if not demand's (plans read demand)
    period_days: int = 1  # 7: a weekly panel spread over its days (`inputs.period_days`)
    lead_in_days: int = 0  # of `history_days`, read so a weekly re-plan can end on a whole week

    def back(self, cfg: SimConfig) -> int:
        """Days of history before the replay's first day held in `demand`."""
        return cfg.plan.window_days if self.history_days is None else self.history_days
