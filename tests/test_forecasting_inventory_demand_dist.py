"""Lead-time demand samples (forecasting/inventory/demand_dist.py): seasonal scale on history."""

from __future__ import annotations

import numpy as np
import pytest

from forecasting.inventory.demand_dist import (
    DemandInputs,
    iter_lead_time_demand_samples,
    lead_time_demand_samples,
)


def _samples(history: np.ndarray, scale: np.ndarray | None) -> np.ndarray:
    rng = np.random.default_rng(0)
    ((_, out),) = list(
        iter_lead_time_demand_samples(
            rng,
            DemandInputs(history),
            np.array([4.0]),
            np.array([0.0]),
            20_000,
            undershoot=False,
            scale=scale,
        )
    )
    return out


def test_whole_units_stay_whole_with_an_unbiased_scaled_mean() -> None:
    # one unit a day, lead time 4: every sample is 4; x 1.25 = 5 exactly; x 1.1 = 4.4 on
    # average, as 4 (60%) or 5 (40%)
    history = np.ones((1, 28))
    assert set(_samples(history, None).ravel().tolist()) == {4.0}
    assert set(_samples(history, np.array([1.25])).ravel().tolist()) == {5.0}
    scaled = _samples(history, np.array([1.1]))
    assert set(scaled.ravel().tolist()) == {4.0, 5.0}
    assert scaled.mean() == pytest.approx(4.4, abs=0.02)


def test_fractional_history_is_scaled_as_is() -> None:
    history = np.full((1, 28), 0.5)
    assert _samples(history, np.array([1.1])) == pytest.approx(np.full((1, 20_000), 2.2))


def test_all_at_once_matches_the_chunks() -> None:
    history = np.random.default_rng(1).poisson(2.0, (3, 56)).astype(float)
    out = lead_time_demand_samples(
        np.random.default_rng(0), DemandInputs(history), np.full(3, 5.0), np.full(3, 1.0), 200
    )
    assert out.shape == (3, 200) and np.all(out >= 0)
