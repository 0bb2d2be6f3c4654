"""The inventory optimizer's acceptance check: service hit and stock at equal service.

For targets such as 90/95/99%, `forecasting.inventory.simulate` replays the same days with the three
policies. Two questions are answered from those replays:
- how far the achieved pooled cycle service of each policy lands from its target;
- whether shelfwise holds less stock than the normal-approximation formula at equal or better
  service. The normal formula is also replayed at extra levels (by default 85%, 99.5%, 99.9%) so
  that its stock / service curve can be read at the service shelfwise achieved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from forecasting.inventory.sim_report import stock_at_service
from forecasting.inventory.simulate import SimConfig, SimData, SimResult, simulate

TARGETS: tuple[float, ...] = (0.90, 0.95, 0.99)
EXTRA_NORMAL_LEVELS: tuple[float, ...] = (0.85, 0.995, 0.999)
#: Monte Carlo samples of the extra runs (only their normal-formula rows are read).
EXTRA_RUN_SAMPLES = 100


@dataclass(frozen=True)
class ServiceCheck:
    """Replays per target and the normal formula's (service, stock) curve."""

    results: dict[float, SimResult]
    normal_curve: list[tuple[float, float]]

    def metric(self, target: float, policy: str, name: str) -> float:
        """Overall metric `name` (e.g. cycle_service_level) of `policy` at service `target`."""
        return float(self.results[target].overall[policy][name])

    def mean_abs_gap_points(self, policy: str = "shelfwise") -> float:
        """Mean over targets of |achieved cycle service - target|, in percentage points."""
        gaps = [abs(self.metric(t, policy, "cycle_service_level") - t) for t in self.results]
        return 100.0 * float(np.mean(gaps))

    def normal_stock_at_shelfwise_service(self, target: float) -> float:
        """The normal formula's stock at the service shelfwise achieved (NaN: never reached)."""
        return stock_at_service(
            self.normal_curve, self.metric(target, "shelfwise", "cycle_service_level")
        )

    def less_stock_at_equal_or_better_service(self, target: float) -> bool:
        """Shelfwise stock below the normal formula's at shelfwise's service (or unreachable)."""
        stock = self.metric(target, "shelfwise", "avg_on_hand_units")
        normal = self.normal_stock_at_shelfwise_service(target)
        return bool(np.isnan(normal) or stock < normal)


def check_service(
    data: SimData,
    base: SimConfig,
    targets: Sequence[float] = TARGETS,
    normal_levels: Sequence[float] = EXTRA_NORMAL_LEVELS,
) -> ServiceCheck:
    """Replay `base` at each target, and the normal formula alone at `normal_levels`."""
    results: dict[float, SimResult] = {}
    curve: list[tuple[float, float]] = []
    for target in targets:
        result = simulate(data, base.with_plan(service_level=target), progress=False)
        results[target] = result
        normal = result.overall["normal_approx"]
        curve.append((normal["cycle_service_level"], normal["avg_on_hand_units"]))
    for level in normal_levels:
        cfg = dataclasses.replace(base.with_plan(n_samples=EXTRA_RUN_SAMPLES), normal_level=level)
        normal = simulate(data, cfg, progress=False).overall["normal_approx"]
        curve.append((normal["cycle_service_level"], normal["avg_on_hand_units"]))
    return ServiceCheck(results, curve)
