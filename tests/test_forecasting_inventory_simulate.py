"""The day-by-day replay: timing and accounting checked on demand worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from forecasting.cli import main
from forecasting.inventory.config import PlanConfig
from forecasting.inventory.simulate import SimConfig, SimData, simulate
from tests.conftest import HEAVY
from tests.test_forecasting_inventory_plan import pairs_frame

UNTIL = date(2026, 1, 31)


def sim_data(demand: np.ndarray, rows: list[dict[str, object]]) -> SimData:
    pairs = pairs_frame(rows)
    return SimData(pairs, demand, (None, None, None), True)


def test_constant_demand_is_served_exactly_at_the_normal_reorder_point() -> None:
    # 2 units/day, fixed lead time 4: the normal policy (sd = 0) has s = 8 = lead-time demand.
    # Positions stay even, so an order is placed exactly at 8 and arrives after 4 days of demand,
    # when the shelf has just emptied: never a stockout if the timing is right (arrival before
    # day t + L + 1's demand), a stockout every cycle if it were one day late.
    cfg = SimConfig(until=UNTIL, days=120, plan=PlanConfig(service_level=0.95, n_samples=200))
    data = sim_data(np.full((1, 56 + 120), 2.0), [{"on_hand_units": 40.0, "case_pack": 2.0}])
    result = simulate(data, cfg, progress=False)
    normal = result.overall["normal_approx"]
    assert normal["stockout_days"] == 0 and normal["fill_rate"] == 1.0
    assert normal["cycle_service_level"] == 1.0
    # Q = EOQ sqrt(2 * 730 * 20 / 1.5) = 139.4 -> 140 (pack 2): 240 units demanded, 40 on hand
    # at the start -> orders when the position first reaches 8 (day 16) and 140 units later
    assert normal["orders"] == 2
    # rule of thumb reorders at 28 units (two weeks) and never runs out either
    assert result.overall["rule_of_thumb"]["stockout_days"] == 0


def test_too_low_reorder_point_runs_out_and_loses_sales() -> None:
    # lead time 10 but demand 5/day; rule of thumb at 14 days of cover is fine, while a 50%
    # target with sd 0 gives s = 50 -> still fine; make the lead time random and long instead
    cfg = SimConfig(until=UNTIL, days=60, plan=PlanConfig(service_level=0.5, n_samples=200))
    demand = np.full((1, 56 + 60), 5.0)
    data = sim_data(demand, [{"on_hand_units": 0.0, "lead_time_mean_days": 20.0}])
    result = simulate(data, cfg, progress=False)
    rule = result.overall["rule_of_thumb"]
    # empty shelf, s = 70 < 20 days x 5: first order arrives on day 21 -> 21 days with no sales
    assert rule["stockout_days"] >= 21
    assert rule["fill_rate"] < 0.7
    lost_fill = rule["fill_rate"]
    backlog_cfg = SimConfig(
        until=UNTIL,
        days=60,
        demand_mode="backorders",
        plan=PlanConfig(service_level=0.5, n_samples=200),
    )
    backlog = simulate(data, backlog_cfg, progress=False)
    assert backlog.overall["rule_of_thumb"]["fill_rate"] <= lost_fill


def test_missing_stock_starts_at_order_up_to() -> None:
    cfg = SimConfig(until=UNTIL, days=30, plan=PlanConfig(n_samples=200))
    data = SimData(
        pairs_frame([{"on_hand_units": None}]), np.full((1, 86), 1.0), (None, None, None), False
    )
    result = simulate(data, cfg, progress=False)
    assert any("order-up-to" in note for note in result.notes)
    assert result.overall["shelfwise"]["stockout_days"] == 0


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="--days"):
        SimConfig(until=UNTIL, days=0)
    with pytest.raises(ValueError, match="--service-level"):
        SimConfig(until=UNTIL, days=30, plan=PlanConfig(service_level=1.0))
    with pytest.raises(ValueError, match="demand_mode"):
        SimConfig(until=UNTIL, days=30, demand_mode="magic")  # type: ignore[arg-type]


@pytest.fixture()
def panel_db(request: pytest.FixtureRequest) -> Path:
    """The store-item panel: the committed sample by default, the full file when HEAVY."""
    return request.getfixturevalue("store_item_panel_db" if HEAVY else "store_item_sample_db")


@pytest.mark.heavy
def test_panel_hits_its_target(panel_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Sales-only panel (no stock, default supply): start at order-up-to, service near target."""
    assert (
        main(
            [
                "--db",
                str(panel_db),
                "simulate",
                "--until",
                "2017-08-31",
                "--days",
                "90",
                "--service-level",
                "0.95",
                "--samples",
                "500",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "no stock snapshot" in captured.err and "order-up-to" in captured.err
    line = next(x for x in captured.out.splitlines() if x.startswith("shelfwise"))
    achieved = float(line.split()[1])
    assert abs(achieved - 0.95) <= 0.03, line


def test_simulate_cli_rejects_horizon_past_the_data(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", str(demo_db), "simulate", "--until", "2026-10-01", "--days", "60"]) == 2
    assert "after the last sale" in capsys.readouterr().err


def test_periodic_review_orders_up_to_s_on_review_days_only() -> None:
    # 2 units/day, fixed lead time 4, review every 7 days: the normal (R, S) level with sd 0 is
    # S = 2 x (4 + 7) = 22. An order placed on a review day arrives before day t + 5's sales
    # and the next one before day t + 12's: 11 days = 22 units, so the shelf just empties and
    # no sale is lost. Start 40 on hand: day 0 position 38, day 7 24 (> 22, no order); from
    # day 14 (position 10) every review orders, 16 reviews from day 14 to day 119.
    cfg = SimConfig(
        until=UNTIL, days=120, plan=PlanConfig(service_level=0.95, n_samples=200, policy="RS")
    )
    data = sim_data(np.full((1, 56 + 120), 2.0), [{"on_hand_units": 40.0}])
    result = simulate(data, cfg, progress=False)
    normal = result.overall["normal_approx"]
    assert normal["stockout_days"] == 0 and normal["fill_rate"] == 1.0
    assert normal["orders"] == 16
    assert any("periodic review (R, S), orders every 7 days" in note for note in result.notes)
    # a case pack of 5 rounds each order up (never down), so stock stays above zero as well
    packed = simulate(
        sim_data(np.full((1, 176), 2.0), [{"on_hand_units": 40.0, "case_pack": 5.0}]),
        cfg,
        progress=False,
    ).overall["normal_approx"]
    assert (
        packed["stockout_days"] == 0 and packed["avg_on_hand_units"] >= normal["avg_on_hand_units"]
    )
    with pytest.raises(ValueError, match="review_days"):
        SimConfig(until=UNTIL, days=30, plan=PlanConfig(policy="RS", review_days=0))
