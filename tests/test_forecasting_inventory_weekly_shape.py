"""The weekly panels' bootstrap history: weeks relative to their neighbours, at the recent level."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from forecasting.cli import main as forecasting_main
from forecasting.inventory.config import PlanConfig
from forecasting.inventory.demand_dist import DemandInputs
from forecasting.inventory.inputs import PlanInputs, load_inputs
from forecasting.inventory.policies import shelfwise_policy
from forecasting.inventory.sim_config import SimConfig
from forecasting.inventory.simulate import _policies, load_sim_data
from forecasting.inventory.weekly_shape import week_phase, weekly_shape
from tests.test_forecasting_inventory_plan import UNTIL, pairs_frame
from warehouse.cli import main as warehouse_main
from warehouse.db import query, reading
from warehouse.ingest.sales_panel import PanelColumns, ingest_args

WEEKS = 30


def spread(weeks: np.ndarray) -> np.ndarray:
    """Weekly totals `[n, weeks]` spread evenly over their days, `[n, 7 * weeks]`."""
    return np.repeat(weeks / 7.0, 7, axis=1)


def test_the_weeks_first_day_is_read_from_where_values_change() -> None:
    rng = np.random.default_rng(2)
    history = spread(rng.uniform(10, 100, (3, 10)))
    assert week_phase(history) == 0
    assert week_phase(history[:, 3:]) == 4  # cut mid-week: the next week starts at column 4
    assert week_phase(np.c_[history, np.zeros((3, 2))]) == 0  # a week not ended, read as zeros
    assert week_phase(np.full((2, 30), 5.0)) == 0


def test_a_week_cut_by_the_history_start_or_end_is_not_a_week() -> None:
    # weeks of 70 and 140 alternating, the matrix starting and ending mid-week
    weeks = np.tile(np.array([[70.0, 140.0]]), (1, 16))
    history = spread(weeks)[:, 3:-2]
    shaped = weekly_shape(history, np.zeros(1, dtype=int), 56, 168)
    shape, usable = shaped.history, shaped.rows
    assert usable.all()
    shape_weeks = shape.reshape(24, 7).sum(axis=1)
    assert np.all(np.abs(np.diff(np.sign(np.diff(shape_weeks)))) == 2)  # high, low, high...
    assert shape_weeks[::2].mean() / shape_weeks[1::2].mean() > 1.7  # not two weeks blended
    assert np.ptp(shape.reshape(24, 7), axis=1).max() == pytest.approx(0.0)


def test_the_season_is_taken_out_and_the_level_is_the_windows() -> None:
    # a smooth pair on a strong season (x0.6..x1.4 in a year): the plain half-year holds
    # the swing, the shape only the small noise, at the last 8 weeks' mean
    rng = np.random.default_rng(0)
    t = np.arange(WEEKS)
    season = 1000.0 * (1.0 + 0.4 * np.sin(2 * np.pi * t / 52.0))
    weeks = (season * rng.normal(1.0, 0.03, WEEKS))[None, :]
    history = spread(weeks)
    shaped = weekly_shape(history, np.zeros(1, dtype=int), 56, 168)
    shape, usable = shaped.history, shaped.rows
    assert usable.tolist() == [True] and shape.shape == (1, 168)
    assert shape.mean() == pytest.approx(history[:, -56:].mean())
    shape_weeks = shape.reshape(24, 7).sum(axis=1)
    plain_weeks = weeks[0, -24:]
    assert np.std(shape_weeks) / np.mean(shape_weeks) < 0.06
    assert 0.0 < shaped.level_sd[0] < 0.03
    assert np.std(plain_weeks) / np.mean(plain_weeks) > 0.12
    assert np.ptp(shape.reshape(24, 7), axis=1).max() == pytest.approx(0.0)  # flat in a week


def test_a_noisy_pair_keeps_its_noise_over_three_times_the_weeks() -> None:
    rng = np.random.default_rng(1)
    weeks = 500.0 * rng.uniform(0.3, 1.7, (1, WEEKS))
    shaped = weekly_shape(spread(weeks), np.zeros(1, dtype=int), 56, 168)
    shape, usable = shaped.history, shaped.rows
    relative = shape.reshape(24, 7).sum(axis=1) / (shape.mean() * 7)
    assert usable.all()
    assert len(np.unique(np.round(relative, 9))) == 24
    assert 0.3 < np.std(relative) < 0.55  # uniform(0.3, 1.7): sd 0.40, a bit more left out
    # the 8-week level's own relative standard error: the weeks' sd / sqrt(8)
    assert shaped.level_sd[0] == pytest.approx(np.std(relative, ddof=1) / np.sqrt(8), rel=0.05)


def test_pairs_without_the_whole_span_keep_their_window_repeated() -> None:
    weeks = np.full((3, WEEKS), 70.0)
    weeks[1, :20] = 0.0  # first sale 10 weeks before the plan: inside the 24-week span
    weeks[2, 6:29] = 0.0  # an intermittent item: the span's first weeks have no selling neighbour
    history = spread(weeks)
    first = np.array([0, 20 * 7, 0])
    shaped = weekly_shape(history, first, 56, 168)
    shape, usable = shaped.history, shaped.rows
    assert usable.tolist() == [True, False, False]
    assert shaped.level_sd.tolist() == [0.0, 0.0, 0.0]  # a constant level; no estimate
    for row in (1, 2):
        np.testing.assert_allclose(shape[row], np.tile(history[row, -56:], 3))


def test_a_plan_midweek_reads_the_weeks_that_ended() -> None:
    weeks = np.tile(np.array([[60.0, 80.0]]), (1, WEEKS // 2))
    history = np.c_[spread(weeks), np.zeros((1, 4))]  # four days of a week not ended yet
    shaped = weekly_shape(history, np.zeros(1, dtype=int), 56, 168)
    shape, usable = shaped.history, shaped.rows
    assert usable.all()
    assert shape.mean() == pytest.approx(10.0)  # the last 8 whole weeks' mean, not diluted


def test_weekly_shape_days_must_be_whole_weeks() -> None:
    assert PlanConfig(weekly_shape_days=0).weekly_shape_days == 0
    with pytest.raises(ValueError, match="--weekly-shape-days"):
        PlanConfig(weekly_shape_days=100)
    with pytest.raises(ValueError, match="--weekly-shape-days"):
        PlanConfig(weekly_shape_days=7)


WEEK0 = date(2024, 1, 5)  # a Friday; the weeks of `weekly_warehouse` end on Fridays


def weekly_warehouse(tmp_path: Path) -> Path:
    """A real weekly warehouse of 70 weeks: item 1 steady, item 2 with five big weeks among
    the 24 before the last 8."""
    steady = [70.0 + 7.0 * (w % 2) for w in range(70)]
    spiky = [200.0 if w in (48, 52, 55, 57, 59) else 60.0 + 20.0 * (w % 2) for w in range(70)]
    rows = ["date,store,item,sales"] + [
        f"{WEEK0 + timedelta(weeks=w)},1,{item},{units[w]:g}"
        for item, units in ((1, steady), (2, spiky))
        for w in range(70)
    ]
    source = tmp_path / "weekly.csv"
    source.write_text("\n".join(rows) + "\n")
    db = tmp_path / "weekly.duckdb"
    columns = PanelColumns("date", "store", "item", "sales")
    assert warehouse_main(ingest_args(db, source, columns)) == 0
    return db


def test_a_weekly_plan_reads_24_weeks_at_the_recent_level_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end on a real weekly warehouse with over a year of weeks (a seasonal ratio, so
    no as-of level): a pair whose big weeks fell outside the last 8
    gets a higher 99% reorder point than from those 8 weeks alone; a steady pair about the
    same; the reason names the source, and `--weekly-shape-days 0` restores the window."""
    db = weekly_warehouse(tmp_path)
    plans = {}
    for days in ("168", "0"):
        args = ["--db", str(db), "plan", "--quiet", "--service-level", "0.99", "--scope", "item"]
        assert forecasting_main([*args, "--weekly-shape-days", days]) == 0
        with reading(db) as con:
            plans[days] = query(con, "SELECT * FROM reorder_plan ORDER BY product_id")
    shaped, window = plans["168"], plans["0"]
    assert all(
        "24 weeks of weekly sales, each relative to its neighbours' level, at the last 8 weeks' "
        "level, bootstrapped" in reason
        for reason in shaped["reason"]
    )
    assert all("8 weeks of weekly sales spread over their days" in r for r in window["reason"])
    assert shaped["mean_daily_demand"].to_list() == window["mean_daily_demand"].to_list()
    steady_s, spiky_s = shaped["reorder_point"].to_list()
    steady_w, spiky_w = window["reorder_point"].to_list()
    assert spiky_s > 1.3 * spiky_w
    assert steady_s == pytest.approx(steady_w, rel=0.1)
    # the replay re-plans the same way and says so
    capsys.readouterr()
    until = WEEK0 + timedelta(weeks=66)
    args = ["--db", str(db), "simulate", "--until", str(until), "--days", "21", "--json"]
    assert forecasting_main([*args, "--samples", "200"]) == 0
    notes = capsys.readouterr().err
    assert "weekly panel: shelfwise bootstraps each pair's last 24 weeks" in notes


def test_a_plan_in_mid_week_reads_the_weeks_that_ended_not_zeros(tmp_path: Path) -> None:
    """A plan on the Wednesday after the last week ended reads the same weeks as a plan on that
    Friday: five days of a week not yet ended are no data, not five days without sales."""
    db = weekly_warehouse(tmp_path)
    last_week = WEEK0 + timedelta(weeks=69)
    frames = []
    for until in (last_week, last_week + timedelta(days=5)):
        inputs = load_inputs(db, until, PlanConfig(seasonal=False, level="off"))
        assert inputs.weekly is not None and inputs.shape is not None
        frames.append((inputs.demand.history, inputs.shape))
    (friday, friday_shape), (wednesday, wednesday_shape) = frames
    np.testing.assert_array_equal(wednesday, friday)
    np.testing.assert_array_equal(wednesday_shape, friday_shape)
    assert (friday[:, -7:] > 0).all()


def test_the_weekly_level_carries_its_standard_error_and_its_bias_correction() -> None:
    """The window's mean is unbiased, so true / estimated level has mean 1 + s^2 for a relative
    standard error s: the shaped pairs' demand is scaled by it and spread by a lognormal of sd
    s; with `level_sd=0` neither (the window's mean as is)."""
    rng = np.random.default_rng(5)
    weeks = 700.0 * rng.uniform(0.3, 1.7, (2, WEEKS))
    history = spread(weeks)
    shaped = weekly_shape(history, np.zeros(2, dtype=int), 56, 168)
    pairs = pairs_frame([{"product_id": "P1"}, {"product_id": "P2"}])
    inputs = PlanInputs(
        pairs, DemandInputs(history[:, -56:]), UNTIL, shape=shaped.history, weekly=shaped
    )
    target, order_qty = np.full(2, 0.95), np.full(2, 100.0)
    with_se, _ = shelfwise_policy(inputs, PlanConfig(), target, order_qty, np.random.default_rng(0))
    without, _ = shelfwise_policy(
        inputs, PlanConfig(level_sd=0.0), target, order_qty, np.random.default_rng(0)
    )
    window_mean = history[:, -56:].mean(axis=1)
    np.testing.assert_allclose(without.mean_daily, window_mean)
    np.testing.assert_allclose(with_se.mean_daily, window_mean * (1 + shaped.level_sd**2))
    assert (shaped.level_sd > 0.1).all()
    assert (with_se.reorder_point > without.reorder_point).all()


def test_a_replay_started_mid_week_re_plans_from_the_weeks_that_ended(tmp_path: Path) -> None:
    """`simulate` re-plans as `plan` does: as of a Wednesday its policies read the weeks that
    ended by the Friday before, not the days of a week spread from its (future) total."""
    db = weekly_warehouse(tmp_path)
    friday = WEEK0 + timedelta(weeks=64)
    plan = PlanConfig(seasonal=False, level="off", n_samples=200)
    levels = {}
    for until in (friday, friday + timedelta(days=5)):
        cfg = SimConfig(until=until, days=21, plan=plan)
        data = load_sim_data(db, cfg)
        assert data.lead_in_days == 6
        for day in (0, 7):
            policies = _policies(data, cfg, day, np.random.default_rng(3))
            levels[until, day] = [p.reorder_point for p in policies]
    for day in (0, 7):
        for on_friday, on_wednesday in zip(
            levels[friday, day], levels[friday + timedelta(days=5), day], strict=True
        ):
            np.testing.assert_array_equal(on_wednesday, on_friday)
