"""Policy maths against textbook cases worked out by hand (forecasting/inventory/maths.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting.inventory.allocation import allocate_service, reorder_point_grid
from forecasting.inventory.maths import (
    ClassRules,
    abc_xyz_classes,
    check_service_level,
    cost_based_cycle_service,
    critical_fractile,
    eoq,
    fill_rate_reorder_point,
    lead_time_demand_sigma,
    newsvendor_quantity,
    normal_reorder_point,
    quantile_reorder_point,
    round_order_quantity,
    sample_lead_times,
    sample_undershoot,
    sample_window_sums,
)


def test_eoq_textbook_case() -> None:
    # D = 1,000 units/year, K = 10 GBP/order, h = 0.5 GBP/unit/year: sqrt(2*1000*10/0.5) = 200
    assert float(eoq(1000.0, 10.0, 0.5)) == pytest.approx(200.0)
    # D = 1,200, K = 50, h = 12 GBP x 20% = 2.4: sqrt(120000 / 2.4) = sqrt(50000) = 223.607
    assert float(eoq(1200.0, 50.0, 2.4)) == pytest.approx(223.6068, abs=1e-3)
    assert float(eoq(0.0, 50.0, 2.4)) == 0.0


def test_eoq_rejects_negative_cost() -> None:
    with pytest.raises(ValueError, match="order cost"):
        eoq(100.0, -1.0, 1.0)


def test_rounding_to_case_pack_and_minimum() -> None:
    got = round_order_quantity(
        np.array([13.0, 3.0, 0.0, 12.0]),
        np.array([6.0, 1.0, 6.0, 6.0]),
        np.array([1.0, 10.0, 1.0, 18.0]),
    )
    # 13 -> 3 cases of 6; 3 -> minimum 10; 0 stays 0; 12 -> minimum 18 = 3 cases
    assert got.tolist() == [18.0, 10.0, 0.0, 18.0]


def test_newsvendor_critical_fractile() -> None:
    # price 10, cost 6, salvage 2: cu = 4, co = 4 -> 0.5; cu = 3, co = 1 -> 0.75
    assert float(critical_fractile(4.0, 4.0)) == pytest.approx(0.5)
    assert float(critical_fractile(3.0, 1.0)) == pytest.approx(0.75)
    # normal demand mean 100, sd 20 at 0.75: z = 0.67449 -> 113.49
    assert newsvendor_quantity(100.0, 20.0, 3.0, 1.0) == pytest.approx(113.4898, abs=1e-3)


def test_normal_reorder_point_with_lead_time_variance() -> None:
    # d = 20/day, sd_d = 5, L = 9 days, sd_L = 2: sigma = sqrt(9*25 + 400*4) = sqrt(1825)
    sigma = float(lead_time_demand_sigma(20.0, 5.0, 9.0, 2.0))
    assert sigma == pytest.approx(math.sqrt(1825.0))
    rop, safety = normal_reorder_point(20.0, 5.0, 9.0, 2.0, 0.95)
    assert float(safety) == pytest.approx(1.644854 * 42.720019, abs=1e-3)  # 70.269
    assert float(rop) == pytest.approx(180.0 + 70.2690, abs=1e-3)
    # fixed lead time: sigma = sqrt(9) * 5 = 15, safety = 1.6449 * 15 = 24.67
    _, fixed = normal_reorder_point(20.0, 5.0, 9.0, 0.0, 0.95)
    assert float(fixed) == pytest.approx(24.6728, abs=1e-3)


def test_cost_based_cycle_service_by_hand() -> None:
    # D = 1,000/yr, Q = 100, h = 2 GBP/unit/yr, p = 5 GBP lost margin: 5000 / (5000 + 200)
    got = cost_based_cycle_service(
        np.array([1000.0]), np.array([100.0]), np.array([2.0]), np.array([5.0])
    )
    assert float(got[0]) == pytest.approx(5000.0 / 5200.0)


@pytest.mark.parametrize("bad", [1.0, 0.0, -0.1, 0.3, float("nan")])
def test_absurd_service_levels_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="service level must be between"):
        check_service_level(bad)


def test_negative_lead_time_rejected() -> None:
    with pytest.raises(ValueError, match="lead time"):
        normal_reorder_point(1.0, 1.0, -2.0, 0.0, 0.95)
    with pytest.raises(ValueError, match="lead time"):
        sample_lead_times(np.random.default_rng(0), np.array([-1.0]), np.array([0.0]), 10)


def test_empirical_quantile_is_smallest_covering_value() -> None:
    samples = np.arange(1.0, 101.0)[None, :]  # 1..100
    assert quantile_reorder_point(samples, np.array([0.95])).tolist() == [95.0]
    assert quantile_reorder_point(samples, np.array([0.90])).tolist() == [90.0]
    assert quantile_reorder_point(samples + 0.2, np.array([0.90])).tolist() == [91.0]


def test_fill_rate_reorder_point_by_hand() -> None:
    samples = np.array([[0.0, 0.0, 10.0, 10.0]])
    # s = 0: E[(X - 0)+] = 5 > (1 - 0.9) * 10 = 1, s = 10: 0 -> 10; at fill 0.5, 5 <= 5 -> 0
    assert fill_rate_reorder_point(samples, np.array([10.0]), 0.9).tolist() == [10.0]
    assert fill_rate_reorder_point(samples, np.array([10.0]), 0.5).tolist() == [0.0]


def test_window_sums_are_circular_consecutive_days() -> None:
    rng = np.random.default_rng(1)
    history = np.array([[1.0, 2.0, 3.0, 4.0]])
    two = sample_window_sums(rng, history, np.full((1, 400), 2))
    assert set(two.ravel().tolist()) == {3.0, 5.0, 7.0}  # 1+2, 2+3 / 4+1, 3+4
    assert set(sample_window_sums(rng, history, np.full((1, 50), 4)).ravel().tolist()) == {10.0}
    six = sample_window_sums(rng, history, np.full((1, 400), 6))
    assert set(six.ravel().tolist()) == {13.0, 15.0, 17.0}  # a full wrap (10) plus two days
    assert sample_window_sums(rng, history, np.zeros((1, 5))).ravel().tolist() == [0.0] * 5


def test_undershoot_is_size_biased_uniform_split() -> None:
    rng = np.random.default_rng(2)
    # all demand comes in one day of 4 units: the undershoot is uniform on {0, 1, 2, 3}
    history = np.array([[0.0, 4.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    under = sample_undershoot(rng, history, 20_000)
    assert set(under[0].tolist()) == {0.0, 1.0, 2.0, 3.0}
    assert under[0].mean() == pytest.approx(1.5, abs=0.05)
    assert under[1].tolist() == [0.0] * 20_000


def test_lead_times_are_whole_days_with_the_given_moments() -> None:
    lt = sample_lead_times(
        np.random.default_rng(3), np.array([10.0, 3.0]), np.array([2.0, 0.0]), 50_000
    )
    assert np.all(lt == np.rint(lt))
    assert lt[0].mean() == pytest.approx(10.0, abs=0.05)
    assert lt[0].std() == pytest.approx(2.0, abs=0.1)
    assert set(lt[1].tolist()) == {3.0}


def test_abc_xyz_classes() -> None:
    labels = abc_xyz_classes(np.array([80.0, 15.0, 5.0]), np.array([0.1, 0.7, 2.0]), ClassRules())
    assert labels.tolist() == ["AX", "BY", "CZ"]
    rules = ClassRules()
    assert rules.target("AX") == 0.99 and rules.target("BZ") == 0.95


def test_class_rules_validate() -> None:
    with pytest.raises(ValueError, match="no target for class CZ"):
        ClassRules(targets={"A": 0.99, "B": 0.95, "CX": 0.9, "CY": 0.9})
    with pytest.raises(ValueError, match="a_share"):
        ClassRules(a_share=0.96)
    with pytest.raises(ValueError, match="target of class A"):
        ClassRules(targets={"A": 1.0, "B": 0.95, "C": 0.9})


def test_reorder_point_grid_gives_the_service_each_level_buys() -> None:
    # ten samples; P(X <= 1) = 0.5, P(X <= 2) = 0.7, P(X <= 5) = 0.9, P(X <= 9) = 1
    samples = np.array([[0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 5.0, 9.0]])
    s, service = reorder_point_grid(samples, np.array([0.5, 0.6, 0.9, 0.95]))
    assert s.tolist() == [[1.0, 2.0, 5.0, 9.0]]
    assert service.tolist() == [[0.5, 0.7, 0.9, 1.0]]  # the 60% point really gives 70%
    # rows are ranked on their own, whatever the other rows hold
    two, service2 = reorder_point_grid(np.vstack([samples, samples + 100.5]), np.array([0.5]))
    assert two[:, 0].tolist() == [1.0, 102.0] and service2[:, 0].tolist() == [0.5, 0.5]


def test_allocation_buys_pooled_service_where_it_is_cheap() -> None:
    # Same candidate levels for both items; A has three times B's replenishment cycles and
    # cheap steps, B's steps cost 4-8 units. Each item at 95% on its own: 12 + 18 = 30 units.
    # Pooled service (3 CSL_A + CSL_B) / 4 >= 0.95, by enumeration of all 16 pairs of levels:
    # A 99% + B 80% = 24 units but (2.97 + 0.80) / 4 = 0.9425 is short; A 95% + B 90% = 26,
    # 0.9375, short; A 99% + B 90% = 28 units, 0.9675: the cheapest that meets the target.
    levels = np.array([0.80, 0.90, 0.95, 0.99])
    s_grid = np.array([[10.0, 11.0, 12.0, 14.0], [10.0, 14.0, 18.0, 26.0]])
    service = np.tile(levels, (2, 1))
    weights = np.array([3.0, 1.0])
    chosen = allocate_service(s_grid, service, weights, 0.95, floor=0.5)
    assert chosen.tolist() == [14.0, 14.0]
    best = min(
        (s_grid[0, i] + s_grid[1, j], i, j)
        for i in range(4)
        for j in range(4)
        if (3 * levels[i] + levels[j]) / 4 >= 0.95
    )
    assert best == (28.0, 3, 1)
    # a floor of 90% leaves the same answer; a floor of 95% forces every item to 95%+
    assert allocate_service(s_grid, service, weights, 0.95, 0.90).tolist() == [14, 14]
    assert allocate_service(s_grid, service, weights, 0.95, 0.95).tolist() == [12, 18]


def test_allocation_edge_cases() -> None:
    levels = np.array([0.80, 0.90, 0.99])
    s_grid = np.array([[5.0, 6.0, 9.0], [2.0, 3.0, 4.0]])
    service = np.tile(levels, (2, 1))
    # an item without demand (weight 0) sits at the floor; the other carries the target
    out = allocate_service(s_grid, service, np.array([1.0, 0.0]), 0.90, 0.80)
    assert out.tolist() == [6.0, 2.0]
    # an unreachable target gives every item its highest level; no demand at all, the floor
    assert allocate_service(s_grid, service, np.ones(2), 0.999, 0.8).tolist() == [9, 4]
    assert allocate_service(s_grid, service, np.zeros(2), 0.95, 0.9).tolist() == [6, 3]
    # one item whose service rises linearly in s: the repair step stops at the first level
    # that meets the target instead of jumping to the top (the multiplier alone would)
    line = np.array([[10.0, 11.0, 12.0]])
    assert allocate_service(
        line, np.array([[0.80, 0.85, 0.90]]), np.ones(1), 0.85, 0.5
    ).tolist() == [11.0]


def test_allocation_floor_is_on_each_items_service() -> None:
    # the floor reads the service a candidate gives, not its nominal level: item B's service
    # never reaches 80%, so it gets its highest candidate whatever the target
    s_grid = np.array([[5.0, 6.0, 9.0], [2.0, 3.0, 4.0]])
    service = np.array([[0.80, 0.90, 0.99], [0.50, 0.60, 0.70]])
    out = allocate_service(s_grid, service, np.ones(2), 0.5, 0.80)
    assert out.tolist() == [5.0, 4.0]
