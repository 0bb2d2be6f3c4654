"""Prophet per series (adapter): weekly and yearly seasonality, country holidays, clamped at zero.

Prophet fits one Stan model per series (about a second each), so it runs on a selected subset
of smooth, seasonal series, in parallel through `warehouse.executors`. A series on which
Prophet fails gets a NaN row (the caller falls back to a baseline).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from forecasting.data import STEP_DAYS, Panel
from warehouse.executors import Executor, ProcessExecutor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProphetJob:
    """One series' history and what to forecast (picklable)."""

    dates: np.ndarray
    y: np.ndarray
    h: int
    freq: str
    holiday_dates: np.ndarray
    floor: float = 0.0


def fit_predict_one(job: ProphetJob) -> np.ndarray:
    """(h,) Prophet forecast of one series, clamped at zero."""
    import pandas as pd
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True  # one INFO line per chain otherwise
    logging.getLogger("prophet").setLevel(logging.ERROR)
    frame = pd.DataFrame({"ds": pd.to_datetime(job.dates), "y": job.y})
    holidays = None
    if job.holiday_dates.size:
        holidays = pd.DataFrame({"holiday": "holiday", "ds": pd.to_datetime(job.holiday_dates)})
    model = Prophet(
        weekly_seasonality=job.freq == "D",
        yearly_seasonality=len(frame) > 365 // STEP_DAYS[job.freq],
        daily_seasonality=False,
        holidays=holidays,
        uncertainty_samples=0,
    )
    model.fit(frame)
    future = model.make_future_dataframe(
        periods=job.h, freq=f"{STEP_DAYS[job.freq]}D", include_history=False
    )
    return np.maximum(model.predict(future)["yhat"].to_numpy(dtype=np.float64), job.floor)


@dataclass
class ProphetModel:
    """Prophet on every series of the panel it is given (select a subset first).

    Attributes:
        max_history: periods of history given to Prophet.
        executor: where the per-series fits run.
    """

    max_history: int = 730
    executor: Executor = field(default_factory=lambda: ProcessExecutor(workers=2, progress=False))
    name: str = "prophet"

    def fit(self, panel: Panel, end: int) -> ProphetModel:
        """Remember the history; each series is fitted inside `predict` (one job per series)."""
        self._panel, self._end = panel, end
        return self

    def predict(self, h: int) -> np.ndarray:
        """(n, h) forecasts; NaN rows for series where Prophet failed."""
        panel, end = self._panel, self._end
        hol = panel.holiday.nonzero()[0]
        step = np.timedelta64(STEP_DAYS[panel.freq], "D")
        hol_dates = panel.dates[0] + step * hol
        jobs = []
        for i in range(panel.n):
            lo = max(int(panel.start[i]), end + 1 - self.max_history)
            jobs.append(
                ProphetJob(
                    panel.dates[lo : end + 1],
                    panel.y[i, lo : end + 1].astype(float),
                    h,
                    panel.freq,
                    hol_dates,
                    panel.floor,
                )
            )
        out = np.full((panel.n, h), np.nan)
        for i, result in self.executor.map(fit_predict_one, jobs, desc="prophet"):
            if isinstance(result, Exception):
                log.warning(
                    "prophet failed on %s|%s: %s",
                    panel.store_id[i],
                    panel.product_id[i],
                    str(result).splitlines()[0] if str(result) else type(result).__name__,
                )
            else:
                out[i] = result
        return out
