"""Forecasting pipeline steps: forecast, then plan orders (see warehouse.pipeline)."""

from __future__ import annotations

import importlib

from warehouse.pipeline import PipelineStep

STEPS: list[PipelineStep] = []
for _name in ("forecasting.cli", "forecasting.inventory.cli"):
    try:
        STEPS.extend(importlib.import_module(_name).PIPELINE_STEPS)
    except ModuleNotFoundError as _exc:
        if _exc.name != _name:
            raise
