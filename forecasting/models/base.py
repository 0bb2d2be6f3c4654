"""The model protocol and the registry of model names.

Every model is a point forecaster over a whole panel: `fit(panel, end)` learns from
`panel.y[:, :end + 1]` and `predict(h)` returns (n_series, h) non-negative units per period.
A row of NaN means the model failed on that series; `forecasting.intervals` then falls back to
a baseline for it. Intervals and quantiles are added around any model by conformal calibration
(`forecasting.intervals.ConformalTable.fit`, then `.apply` to the point forecasts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from forecasting.data import Panel


@runtime_checkable
class Forecaster(Protocol):
    """A point forecaster over all series of a panel."""

    name: str

    def fit(self, panel: Panel, end: int) -> Forecaster:
        """Learn from history `panel.y[:, :end + 1]`; returns self."""
        ...

    def predict(self, h: int) -> np.ndarray:
        """(n_series, h) forecasts for periods end+1 .. end+h; NaN rows for failed series."""
        ...


def _registry() -> dict[str, Callable[[], Forecaster]]:
    from forecasting.models.baselines import MovingAverage, SeasonalNaive, StatsModel
    from forecasting.models.lgbm import LightGBMConfig, LightGBMGlobal
    from forecasting.models.prophet import ProphetModel

    return {
        "seasonal_naive": SeasonalNaive,
        "moving_average": MovingAverage,
        "croston_sba": lambda: StatsModel("croston_sba"),
        "tsb": lambda: StatsModel("tsb"),
        "ets": lambda: StatsModel("ets"),
        "lightgbm": LightGBMGlobal,
        "lightgbm_median": lambda: LightGBMGlobal(
            LightGBMConfig(objective="l1"), name="lightgbm_median"
        ),
        "prophet": ProphetModel,
    }


def model_names() -> list[str]:
    """Every model name `make_model` accepts."""
    return list(_registry())


def make_model(name: str) -> Forecaster:
    """A fresh model by name (see `model_names`)."""
    registry = _registry()
    if name not in registry:
        raise ValueError(f"model {name!r}: expected one of {', '.join(registry)}")
    return registry[name]()
