"""Forecasting models behind one protocol (`forecasting.models.base.Forecaster`)."""

from __future__ import annotations

from forecasting.models.base import Forecaster, make_model, model_names

__all__ = ["Forecaster", "make_model", "model_names"]
