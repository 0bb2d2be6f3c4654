"""`PlanConfig`: how the reorder plan (and every re-plan of the replay) is computed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from forecasting.inventory.maths import ClassRules, check_service_level


@dataclass(frozen=True)
class PlanConfig:
    """How the plan is computed.

    Attributes:
        service_level: cycle service target (or fill rate when `measure="fill"`) for "fixed".
        targets: "fixed" (one level), "class" (ABC/XYZ rules) or "cost" (critical fractile).
        measure: "cycle" (P(no stockout per cycle)) or "fill" (share of demand served).
        policy: "sQ" (continuous review, reorder point s, quantity Q) or "RS" (review every
            `review_days`, order up to S).
        window_days: days of recent demand the history source uses.
        n_samples: Monte Carlo samples per pair.
        no_cost_cover_days: order quantity in days of demand when the unit cost is unknown.
        rule_of_thumb_days: the retailer's rule: reorder under this many days of average sales.
        method: history sampler, "block" bootstrap or "nb" (negative binomial on its moments).
        level_days: rescale the window to the mean of its last N days (0 = off).
        undershoot: add the reorder undershoot to the (s, Q) lead-time demand.
        seasonal: scale the history window by last year's ratio of the coming weeks to the
            window (`forecasting.inventory.seasonal`), per category; forecasts need no such scaling.
        scope: "portfolio" (default): the cycle service target holds for each group of items
            sharing a target, pooled over their replenishment cycles, met with the least stock
            (`allocation.allocate_service`); "item": every item on its own hits the target.
        item_floor_gap: under "portfolio", no item is planned more than this below its target.
        level: the as-of demand level (`forecasting.inventory.level`) that rescales the history
            window: "auto" (default) where no seasonal ratio exists (under a year of sales),
            "trend" always (times the seasonal ratio where there is one), "off" never.
        shape_days: where the level is used, the bootstrap reads this many days, rescaled to
            the level (a longer history of the lumpy orders than the window is possible; 182
            measured worse than 56 on Online Retail II, docs/BENCHMARKS.md).
        weekly_shape_days: on a weekly panel where the level is not used, the bootstrap reads
            this many days of weeks relative to their neighbours' level, at the window's level
            (`forecasting.inventory.weekly_shape`); 0 = the window as is.
        level_sd: multiplier on the level's relative standard error added to the samples
            (0 = treat the level as exact).
        pooled_sizes: sale-day sizes shrunk towards the category's pool
            (`forecasting.inventory.order_sizes`): "auto" (default) where the as-of level is
            used, "on" always, "off" never.
        size_prior_days: pseudo sale days of the category's pool in each pair's mixture.
        level_errors: where the as-of level is used, multiply its samples by the level's recent
            errors (`forecasting.inventory.level_error`) instead of its standard error.
    """

    service_level: float = 0.95
    targets: Literal["fixed", "class", "cost"] = "fixed"
    measure: Literal["cycle", "fill"] = "cycle"
    policy: Literal["sQ", "RS"] = "sQ"
    review_days: int = 7
    window_days: int = 56
    n_samples: int = 1000
    seed: int = 0
    use_forecast: bool = True
    no_cost_cover_days: float = 7.0
    rule_of_thumb_days: float = 14.0
    method: Literal["block", "nb"] = "block"
    level_days: int = 0
    undershoot: bool = True
    seasonal: bool = True
    scope: Literal["portfolio", "item"] = "portfolio"
    item_floor_gap: float = 0.10
    level: Literal["auto", "trend", "off"] = "auto"
    shape_days: int = 56
    weekly_shape_days: int = 168
    level_sd: float = 1.0
    pooled_sizes: Literal["auto", "on", "off"] = "auto"
    size_prior_days: float = 8.0
    level_errors: bool = True
    class_rules: ClassRules = field(default_factory=ClassRules)

    def __post_init__(self) -> None:
        check_service_level(self.service_level, "--service-level")
        if self.targets not in ("fixed", "class", "cost"):
            raise ValueError(f"targets must be fixed, class or cost, got {self.targets!r}")
        if self.measure not in ("cycle", "fill"):
            raise ValueError(f"measure must be cycle or fill, got {self.measure!r}")
        if self.policy not in ("sQ", "RS"):
            raise ValueError(f"policy must be sQ or RS, got {self.policy!r}")
        if not 1 <= self.review_days <= 91:
            raise ValueError(f"review_days must be 1..91, got {self.review_days}")
        if not 7 <= self.window_days <= 730:
            raise ValueError(f"window_days must be 7..730, got {self.window_days}")
        if not 100 <= self.n_samples <= 100_000:
            raise ValueError(f"n_samples must be 100..100000, got {self.n_samples}")
        if self.method not in ("block", "nb"):
            raise ValueError(f"method must be block or nb, got {self.method!r}")
        if self.scope not in ("portfolio", "item"):
            raise ValueError(f"scope must be portfolio or item, got {self.scope!r}")
        if not 0.0 <= self.item_floor_gap <= 0.5:
            raise ValueError(
                f"--item-floor-gap must be between 0 and 0.5, got {self.item_floor_gap}"
            )
        if self.level not in ("auto", "trend", "off"):
            raise ValueError(f"level must be auto, trend or off, got {self.level!r}")
        if self.pooled_sizes not in ("auto", "on", "off"):
            raise ValueError(f"pooled_sizes must be auto, on or off, got {self.pooled_sizes!r}")
        if not 0.0 <= self.size_prior_days <= 1000.0:
            raise ValueError(f"size_prior_days must be 0..1000, got {self.size_prior_days}")
        if not 7 <= self.shape_days <= 364:
            raise ValueError(f"shape_days must be 7..364, got {self.shape_days}")
        if self.weekly_shape_days and not (
            14 <= self.weekly_shape_days <= 364 and self.weekly_shape_days % 7 == 0
        ):
            raise ValueError(
                f"--weekly-shape-days must be 0 or a multiple of 7 in 14..364, "
                f"got {self.weekly_shape_days}"
            )
        if self.no_cost_cover_days <= 0 or self.rule_of_thumb_days <= 0:
            raise ValueError("cover days must be positive")
