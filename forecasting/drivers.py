"""Forecast drivers tied to the model that made the forecast (what the Forecasts page shows).

Drivers come from the global LightGBM model (`pred_contrib`). When the auto choice picked
another model for a series (ETS, Croston...), those drivers did not produce its forecast: they
are returned only labelled as the global model's view.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import polars as pl

from forecasting.api import forecast_drivers
from warehouse.db import reading, run_named

GLOBAL_MODEL = "lightgbm"


@dataclass(frozen=True)
class DriversView:
    """Drivers of one series' forecast and how to read them.

    Attributes:
        frame: (driver, contribution in units/period), largest effect first; empty when none.
        forecast_model: the model that produced the series' forecast (None: no forecast).
        from_forecast_model: True when the drivers belong to that model.
        note: one line for the page.
    """

    frame: pl.DataFrame
    forecast_model: str | None
    from_forecast_model: bool
    note: str


def drivers_for_forecast(db: str | os.PathLike[str], store_id: str, product_id: str) -> DriversView:
    """The series' drivers, only as the forecast's own drivers when LightGBM made it."""
    frame = forecast_drivers(db, store_id, product_id)
    with reading(db) as con:
        models = run_named(
            con, "forecasting/series_model", {"store_id": store_id, "product_id": product_id}
        )
    model = str(models["model"][0]) if models.height else None
    if model is None:
        return DriversView(frame.clear(), None, False, "No forecast for this series.")
    if model == GLOBAL_MODEL:
        if frame.is_empty():
            return DriversView(
                frame,
                model,
                True,
                "LightGBM made this forecast; its drivers "
                "are kept only for the highest-volume series.",
            )
        return DriversView(frame, model, True, "What drove the LightGBM forecast (units).")
    if frame.is_empty():
        return DriversView(
            frame, model, False, f"This forecast comes from {model}, which has no drivers."
        )
    return DriversView(
        frame,
        model,
        False,
        f"This forecast comes from {model}. Shown: the "
        "global LightGBM model's view of the series, not what produced it.",
    )
