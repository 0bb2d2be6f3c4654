"""Last year's seasonal ratio (forecasting/inventory/seasonal.py), worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.inventory.seasonal import MIN_GROUP_UNITS, seasonal_ratio


def test_group_ratio_of_the_weeks_ahead_to_the_window() -> None:
    # window 4 days, then 2 days ahead. Group "a": 200 a day, then 300 -> 1.5; a pair of "a"
    # that did not sell a year ago (NaN row) takes its group's ratio.
    # Group "b" sold 40 units (under MIN_GROUP_UNITS): the all-items ratio is used instead,
    # 1 day ahead: (300 + 5) / ((800 + 40) / 4) = 305 / 210.
    assert 40 < MIN_GROUP_UNITS <= 800
    year_ago = np.array([[200.0] * 4 + [300.0, 300.0], [np.nan] * 6, [10.0] * 4 + [5.0, 5.0]])
    ratio = seasonal_ratio(year_ago, np.array(["a", "a", "b"]), 4, np.array([2, 2, 1]))
    assert ratio.tolist() == pytest.approx([1.5, 1.5, 305.0 / 210.0])


def test_ratio_is_clipped_and_one_without_a_year_of_data() -> None:
    surge = np.array([[200.0] * 4 + [600.0]])  # x3 a year ago: clipped to 2
    assert seasonal_ratio(surge, np.array(["a"]), 4, np.array([1])).tolist() == [2.0]
    slump = np.array([[200.0] * 4 + [0.0]])
    assert seasonal_ratio(slump, np.array(["a"]), 4, np.array([1])).tolist() == [0.5]
    unknown = np.full((2, 6), np.nan)
    assert seasonal_ratio(unknown, np.array(["a", "b"]), 4, np.array([2, 2])).tolist() == [1, 1]
    # horizons past the matrix are cut to what it holds
    assert seasonal_ratio(
        np.array([[200.0] * 4 + [300.0]]), np.array(["a"]), 4, np.array([30])
    ).tolist() == [1.5]
