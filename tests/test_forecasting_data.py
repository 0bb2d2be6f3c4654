"""The dense panel (`forecasting.data.build_panel`): every unit of the history is kept."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from forecasting.data import build_panel
from forecasting.schemas import HISTORY_SCHEMA

FRIDAY = dt.date(2017, 1, 6)


def _history(rows: list[tuple[str, str, dt.date, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA, orient="row")


def test_weekly_dates_in_one_week_are_summed_not_overwritten() -> None:
    weeks = [FRIDAY + dt.timedelta(weeks=w) for w in range(10)]
    rows = [("S1", "P1", day, 10.0) for day in weeks]
    rows.append(("S1", "P1", weeks[4] + dt.timedelta(days=2), 3.0))  # an odd Sunday row
    panel = build_panel(_history(rows), "W", weeks[-1], horizon=4)
    assert panel.y.shape == (1, 10)
    assert float(panel.y.sum()) == 103.0  # no unit lost
    assert panel.y[0, 4] == 13.0  # in the bin of the week date on or before it (as before)
    assert np.all(np.delete(panel.y[0], 4) == 10.0)


def test_daily_panel_places_each_day_once() -> None:
    days = [FRIDAY + dt.timedelta(days=d) for d in range(14)]
    rows = [("S1", "P1", day, float(d)) for d, day in enumerate(days)]
    rows += [("S2", "P1", days[3], -2.0)]  # a return: net negative day
    panel = build_panel(_history(rows), "D", days[-1], horizon=7)
    assert panel.y.shape == (2, 14)
    assert list(panel.y[0]) == [float(d) for d in range(14)]
    assert panel.y[1, 3] == -2.0 and float(np.abs(panel.y[1]).sum()) == 2.0
