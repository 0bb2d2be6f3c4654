"""Fast forecasts as of any day from a plain history frame: the global LightGBM model only.

For callers that need many forecasts at moving cutoffs (the inventory replay re-plans): one
global model, trained once on history through a cutoff (`AsOfForecaster.fit`), forecasts from
any later cutoff without refitting (`predict_as_of`, features read history through that cutoff
only). `forecast_as_of` does both in one call. Forecasts are means (tweedie objective), in units
per period; no intervals (the engine's conformal intervals need a calibration fit).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from forecasting.data import Panel, build_panel
from forecasting.errors import ForecastInputError
from forecasting.models.lgbm import LightGBMConfig, LightGBMGlobal

#: What `forecast_as_of` returns: one row per series x future period.
ASOF_SCHEMA: dict[str, pl.DataType] = {
    "store_id": pl.String(),
    "product_id": pl.String(),
    "date": pl.Date(),
    "yhat": pl.Float64(),
}


def history_panel(
    history: pl.DataFrame, last_day: dt.date, freq: str = "D", horizon: int = 90
) -> Panel:
    """Dense panel from a long frame (`store_id, product_id, ds, y`) through `last_day`."""
    return build_panel(history.select("store_id", "product_id", "ds", "y"), freq, last_day, horizon)


@dataclass
class AsOfForecaster:
    """One global LightGBM model, forecasting from any cutoff of the panel it was fitted on.

    Attributes:
        panel: the dense history (may extend past cutoffs; only data through each cutoff is read).
        config: LightGBM options (`horizon` = the longest horizon asked for later).
    """

    panel: Panel
    config: LightGBMConfig = field(default_factory=lambda: LightGBMConfig(horizon=28))

    def fit(self, cutoff: dt.date) -> AsOfForecaster:
        """Train on history through `cutoff` (inclusive)."""
        end = self._index(cutoff)
        self.model = LightGBMGlobal(self.config).fit(self.panel, end)
        self.fitted_through = cutoff
        return self

    def _index(self, cutoff: dt.date) -> int:
        end = self.panel.index_of(cutoff)
        if end < 0:
            raise ForecastInputError(f"cutoff {cutoff}: before the first period of the history")
        return end

    def predict_as_of(self, cutoff: dt.date, horizon: int) -> pl.DataFrame:
        """Forecasts for the `horizon` periods after `cutoff` (`ASOF_SCHEMA`), same booster."""
        if horizon > self.config.horizon:
            raise ValueError(
                f"horizon {horizon}: the model was trained up to "
                f"{self.config.horizon} periods ahead"
            )
        end = self._index(cutoff)
        yhat = self.model.with_origin(self.panel, end).predict(horizon)
        yhat = np.where(np.isfinite(yhat), yhat, 0.0)
        p = self.panel
        return pl.DataFrame(
            {
                "store_id": np.repeat(p.store_id, horizon),
                "product_id": np.repeat(p.product_id, horizon),
                "date": np.tile(p.future_dates(end, horizon), p.n),
                "yhat": yhat.ravel(),
            },
            schema=ASOF_SCHEMA,
        )


def forecast_as_of(
    history: pl.DataFrame,
    cutoff: dt.date,
    horizon: int,
    freq: str = "D",
    config: LightGBMConfig | None = None,
) -> pl.DataFrame:
    """Fit the global model on `history` (long: store_id, product_id, ds, y) through `cutoff`
    and forecast the next `horizon` periods of every series (`ASOF_SCHEMA`, units per period).

    Rows after `cutoff` in `history` are ignored.
    """
    cfg = config or LightGBMConfig(horizon=horizon)
    if cfg.horizon < horizon:
        cfg = LightGBMConfig(**{**cfg.__dict__, "horizon": horizon})
    panel = history_panel(history, cutoff, freq, horizon)
    return AsOfForecaster(panel, cfg).fit(cutoff).predict_as_of(cutoff, horizon)
