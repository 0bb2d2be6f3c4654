"""User-facing errors of the forecasting package (one line, naming the command that fixes them)."""

from __future__ import annotations

from warehouse.db import NotApplicableError, WarehouseError


class NoForecastError(WarehouseError):
    """The warehouse has no forecasts yet; run `python -m forecasting run` first."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or "no forecasts in this warehouse yet; run `python -m forecasting run`"
        )


class NoPlanError(Exception):
    """The warehouse has no reorder plan yet; run `python -m forecasting plan` first."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or "no reorder plan in this warehouse yet; run `python -m forecasting plan`"
        )


class ForecastInputError(WarehouseError, ValueError):
    """Bad parameters or data given to the forecaster (message names the parameter); also a
    ValueError, as the engine's argument checks were before."""


class NotEnoughHistoryError(NotApplicableError):
    """Fewer periods of sales than a forecast can learn from (the refresh skips forecasting)."""
