"""Baselines: seasonal naive and moving average (vectorised numpy), and statsforecast's
Croston-SBA, TSB and seasonal exponential smoothing (ETS(A,N,A)-like) for every series.

statsforecast is used where it already does the work well (numba-compiled recursions); its
`AutoETS` measured about 25 series/s on 2 cores, too slow for 10,000 series, so `ets` is
`SeasonalExponentialSmoothingOptimized` (about 1,400 series/s).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.data import STEP_DAYS, Panel

log = logging.getLogger(__name__)


@dataclass
class SeasonalNaive:
    """Repeats the last season (7 days or 52 weeks)."""

    name: str = "seasonal_naive"

    def fit(self, panel: Panel, end: int) -> SeasonalNaive:
        """Keep the last season of history through `end`."""
        m = panel.season
        idx = np.arange(end - m + 1, end + 1)
        self._last = np.where(idx[None, :] >= 0, panel.y[:, np.clip(idx, 0, None)], 0.0)
        return self

    def predict(self, h: int) -> np.ndarray:
        """(n, h) the last season repeated."""
        m = self._last.shape[1]
        return self._last[:, np.arange(h) % m].astype(np.float64)


@dataclass
class MovingAverage:
    """Flat forecast at the mean of the last `window` periods (28 days or 8 weeks if None)."""

    window: int | None = None
    name: str = "moving_average"

    def fit(self, panel: Panel, end: int) -> MovingAverage:
        """Mean of the last window through `end` (since each series started)."""
        w = self.window or (28 if panel.freq == "D" else 8)
        lo = np.maximum(end + 1 - w, panel.start)
        cum = np.hstack(
            [np.zeros((panel.n, 1)), np.cumsum(panel.y[:, : end + 1], axis=1, dtype=np.float64)]
        )
        rows = np.arange(panel.n)
        lo = np.minimum(lo, end + 1)
        self._level = (cum[rows, end + 1] - cum[rows, lo]) / np.maximum(end + 1 - lo, 1)
        return self

    def predict(self, h: int) -> np.ndarray:
        """(n, h) the level repeated."""
        return np.repeat(self._level[:, None], h, axis=1)


@dataclass
class StatsModel:
    """One statsforecast model over all series: 'croston_sba', 'tsb' or 'ets'.

    Attributes:
        kind: which model.
        max_history: periods of history given to the model (the most recent ones).
    """

    kind: str
    max_history: int = 364

    def __post_init__(self) -> None:
        if self.kind not in ("croston_sba", "tsb", "ets"):
            raise ValueError(f"kind {self.kind!r}: expected croston_sba, tsb or ets")
        self.name = self.kind

    def fit(self, panel: Panel, end: int) -> StatsModel:
        """Remember the history; statsforecast fits inside `predict` (its `forecast` API)."""
        self._panel, self._end = panel, end
        return self

    def _model(self, season: int):
        from statsforecast.models import TSB, CrostonSBA, SeasonalExponentialSmoothingOptimized

        if self.kind == "croston_sba":
            return CrostonSBA()
        if self.kind == "tsb":
            return TSB(alpha_d=0.1, alpha_p=0.1)
        return SeasonalExponentialSmoothingOptimized(season_length=season)

    def predict(self, h: int) -> np.ndarray:
        """(n, h) forecasts; all NaN (fallback) if statsforecast fails."""
        os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
        from statsforecast import StatsForecast

        panel, end = self._panel, self._end
        lo = max(0, end + 1 - self.max_history)
        t = end + 1 - lo
        frame = pd.DataFrame(
            {
                "unique_id": np.repeat(np.arange(panel.n), t),
                "ds": np.tile(panel.dates[lo : end + 1], panel.n),
                "y": panel.y[:, lo : end + 1].reshape(-1).astype(np.float64),
            }
        )
        model = self._model(panel.season)
        try:
            sf = StatsForecast(models=[model], freq=f"{STEP_DAYS[panel.freq]}D", n_jobs=1)
            out: pd.DataFrame = sf.forecast(df=frame, h=h)  # pandas in, pandas out
        except Exception as exc:  # noqa: BLE001 - one failing model must not stop the run
            log.warning("%s failed on the panel (%s); falling back", self.name, exc)
            return np.full((panel.n, h), np.nan)
        values = out.sort_values(["unique_id", "ds"]).iloc[:, -1].to_numpy(dtype=np.float64)
        return np.maximum(values.reshape(panel.n, h), panel.floor)
