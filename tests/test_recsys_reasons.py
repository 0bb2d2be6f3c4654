"""Reason sentences (`recsys.reasons.reason_text`): true to the row's own numbers."""

from __future__ import annotations

import numpy as np

from recsys.features import FEATURES
from recsys.reasons import NEW_LINE_DAYS, reason_text


def _row(**values: float) -> np.ndarray:
    x = np.zeros(len(FEATURES))
    for name, value in values.items():
        x[FEATURES.index(name)] = value
    return x


def test_only_a_recent_first_sale_is_called_a_new_line() -> None:
    assert reason_text("i_age", _row(i_age=30), "Garden", None) == (
        "new line in Garden: first sold 30 days ago"
    )
    old = reason_text("i_age", _row(i_age=730), "Garden", None)
    assert old == "an established line in Garden: first sold 730 days ago"
    assert "new line" in reason_text("i_age", _row(i_age=NEW_LINE_DAYS), "Toys", None)


def test_a_repeat_reason_quotes_the_customer_s_cycle() -> None:
    x = _row(ux_orders=4, ux_days_since_last=34, ux_mean_gap=30)
    assert reason_text("ux_cycle_ratio", x, "Kitchen", None) == (
        "you buy this about every 30 days; last bought 34 days ago"
    )
