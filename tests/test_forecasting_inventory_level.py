"""The as-of demand level, its use at every re-plan, and the replay's breakdown by class/month."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from forecasting.inventory.breakdown import demand_classes, service_cell
from forecasting.inventory.config import PlanConfig
from forecasting.inventory.inputs import load_inputs
from forecasting.inventory.level import estimate_level, winsorise
from forecasting.inventory.plan import build_plan
from forecasting.inventory.simulate import SimConfig, SimData, _policies, simulate
from tests.test_forecasting_inventory_plan import pairs_frame

UNTIL = date(2026, 1, 31)
DAYS = 182


def _level(rows: np.ndarray, horizon: int = 14, window: int = 56) -> np.ndarray:
    n = rows.shape[0]
    level = estimate_level(
        rows, np.zeros(n, dtype=np.int64), np.array(["c"] * n), window, np.full(n, horizon)
    )
    assert level.known.all()
    return level.factor


def test_flat_series_keeps_the_window() -> None:
    # 2 units a day for half a year: level 14 a week, no trend -> factor exactly 1
    assert _level(np.full((1, DAYS), 2.0))[0] == pytest.approx(1.0)


def test_growing_series_raises_the_level_above_the_window() -> None:
    # demand rising linearly from 1 to 7 a day: the last 56 days average ~6.1, the next two
    # weeks ~7.3; the window lags, the as-of level follows (between the two, close to ahead)
    daily = np.linspace(1.0, 7.0, DAYS)
    ahead = np.mean(1.0 + 6.0 * (DAYS + np.arange(14)) / (DAYS - 1))
    factor = _level(daily[None, :])[0]
    window_mean = daily[-56:].mean()
    assert factor > 1.1
    assert window_mean * factor == pytest.approx(ahead, rel=0.08)
    # a falling series lowers it: between the linear extrapolation (0.75 a day against a
    # window mean of 1.93) and the window, since the trend is damped
    falling = daily[::-1]
    linear = np.mean(1.0 - 6.0 * np.arange(1, 15) / (DAYS - 1)) / falling[-56:].mean()
    assert linear < _level(falling[None, :])[0] < 0.95


def test_single_wholesale_order_does_not_move_the_level() -> None:
    # 3 units a day and one order of 500 units three days ago: the raw 56-day mean jumps
    # from 3 to 11.9; the winsorised level stays at 3 (the fence is 3 x the median, 9)
    daily = np.full(DAYS, 3.0)
    daily[-3] = 500.0
    clean = winsorise(daily[None, :], np.ones((1, DAYS), dtype=bool))
    assert clean.max() == pytest.approx(9.0)
    factor = _level(daily[None, :])[0]
    assert factor == pytest.approx(1.0, abs=0.1)


def test_pairs_without_enough_sales_get_no_estimate() -> None:
    history = np.zeros((2, DAYS))
    history[1, -3] = 4.0  # one sale in the last week only
    level = estimate_level(
        history, np.array([DAYS, DAYS - 5]), np.array(["a", "a"]), 56, np.array([14, 14])
    )
    assert not level.known.any()
    assert np.all(level.factor == 1.0)


def _growth_data(days: int = 56) -> SimData:
    # half a year at 2 a day, then demand tripling over the replay (planted growth)
    before = np.full(DAYS, 2.0)
    after = np.linspace(2.0, 8.0, days)
    demand = np.round(np.concatenate([before, after]))[None, :]
    pairs = pairs_frame(
        [
            {
                "on_hand_units": None,
                "first_sale_date": UNTIL - timedelta(days=DAYS),
                "lead_time_sd_days": 1.0,
            }
        ]
    )
    return SimData(pairs, demand, (None, None, None), False, None, DAYS)


def test_replan_uses_the_as_of_level_and_only_the_past() -> None:
    data = _growth_data()
    cfg = SimConfig(until=UNTIL, days=56, plan=PlanConfig(n_samples=400, level="auto"))
    off = SimConfig(until=UNTIL, days=56, plan=PlanConfig(n_samples=400, level="off"))
    rng = np.random.default_rng
    start = _policies(data, cfg, 0, rng(0))[0].reorder_point[0]
    grown = _policies(data, cfg, 35, rng(0))[0].reorder_point[0]
    lagging = _policies(data, off, 35, rng(0))[0].reorder_point[0]
    assert grown > start
    assert grown > lagging  # the window lags the growth, the as-of level follows it
    # the estimate uses data strictly before the re-plan day: changing that day and later
    # leaves the policy as it was
    changed = SimData(data.pairs, data.demand.copy(), data.forecast, False, None, DAYS)
    changed.demand[:, DAYS + 35 :] = 100.0
    assert _policies(changed, cfg, 35, rng(0))[0].reorder_point[0] == grown


def test_sim_config_holds_a_plan_config() -> None:
    plan = PlanConfig(service_level=0.9, n_samples=300, level="off")
    cfg = SimConfig(until=UNTIL, days=30, plan=plan)
    assert cfg.plan is plan and cfg.service_level == 0.9
    changed = cfg.with_plan(service_level=0.99)
    assert changed.plan.service_level == 0.99 and changed.plan.n_samples == 300
    assert cfg.plan.service_level == 0.9
    with pytest.raises(ValueError, match="level"):
        cfg.with_plan(level="magic")


def test_demand_classes_follow_syntetos_boylan() -> None:
    days = 60
    smooth = np.full(days, 5.0)
    erratic = np.tile([1.0, 20.0], days // 2)  # every day, sizes vary: CV^2 = 0.82
    intermittent = np.zeros(days)
    intermittent[::3] = 4.0  # ADI 3, CV^2 0
    lumpy = np.zeros(days)
    lumpy[::3] = np.tile([1.0, 30.0], 10)  # ADI 3, CV^2 0.87
    history = np.vstack([smooth, erratic, intermittent, lumpy, np.zeros(days)])
    classes = demand_classes(history, np.zeros(5, dtype=np.int64))
    assert list(classes) == ["smooth", "erratic", "intermittent", "lumpy", "no history"]
    # days before the first sale do not count: an item launched 10 days ago, selling daily
    late = np.zeros((1, days))
    late[0, -10:] = 3.0
    assert demand_classes(late, np.array([days - 10]))[0] == "smooth"


def test_service_cell_reports_cycles_and_standard_error() -> None:
    cell = service_cell(cycles=400, bad=20, demand=1000.0, met=990.0)
    assert cell["cycle_service_level"] == 0.95
    assert cell["cycle_service_se"] == pytest.approx(np.sqrt(0.95 * 0.05 / 400), abs=1e-4)
    assert cell["cycles"] == 400 and cell["fill_rate"] == 0.99


def test_simulate_breaks_service_down_by_class_and_month() -> None:
    data = _growth_data(days=70)
    lumpy = np.zeros(DAYS + 70)
    lumpy[::4] = np.tile([1.0, 12.0], (DAYS + 70) // 8 + 1)[: len(lumpy[::4])]
    demand = np.vstack([data.demand[0], lumpy])
    pairs = pairs_frame(
        [
            {
                "product_id": "GROW",
                "on_hand_units": None,
                "first_sale_date": UNTIL - timedelta(days=DAYS),
            },
            {
                "product_id": "LUMPY",
                "on_hand_units": None,
                "first_sale_date": UNTIL - timedelta(days=DAYS),
            },
        ]
    )
    cfg = SimConfig(until=UNTIL, days=70, plan=PlanConfig(n_samples=200))
    result = simulate(
        SimData(pairs, demand, (None, None, None), False, None, DAYS), cfg, progress=False
    )
    payload = result.as_json()["policies"]
    for metrics in payload.values():  # type: ignore[union-attr]
        assert set(metrics["by_class"]) == {"smooth", "lumpy"}
        assert set(metrics["by_month"]) == {"2026-02", "2026-03", "2026-04"}
        assert sum(c["cycles"] for c in metrics["by_class"].values()) == metrics["cycles"]
        assert sum(c["cycles"] for c in metrics["by_month"].values()) == metrics["cycles"]
        assert metrics["cycles"] > 0
    assert any("as-of level" in note for note in result.notes)


def test_plan_reason_names_the_level_or_its_absence(demo_db: Path) -> None:
    # the demo has two years of sales: "auto" keeps the seasonal ratio alone, "trend" adds the
    # as-of level; pairs without enough sales say the window is used as is
    cfg = PlanConfig(level="trend", n_samples=200)
    inputs = load_inputs(demo_db, None, cfg)
    assert inputs.level is not None
    reasons = build_plan(inputs, cfg)["reason"]
    assert reasons.str.contains("as-of level and damped trend").sum() == int(
        inputs.level.known.sum()
    )
    assert reasons.str.contains("no level estimate").sum() == int((~inputs.level.known).sum())
    auto = load_inputs(demo_db, None, PlanConfig(n_samples=200))
    assert auto.level is None and auto.season is not None
