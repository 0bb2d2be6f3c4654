"""The auto forecaster: per-segment choice among single models and small ensembles."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import polars as pl

from forecasting.choice import candidates, choose, ensemble_arrays, members_of
from forecasting.data import Panel, build_panel
from forecasting.engine import (
    AUTO,
    EngineConfig,
    ModelForecast,
    forecast_panel,
    needs_refit,
    validation_windows,
)
from forecasting.intervals import ConformalTable, horizon_buckets, residual_scale, scale_groups
from forecasting.models.lgbm import LightGBMConfig
from warehouse.executors import InlineExecutor

FAST = LightGBMConfig(n_estimators=30, max_rows=20_000, num_threads=1)


def _fc(rows: int, yhat: np.ndarray, cal: np.ndarray, name: str) -> ModelForecast:
    return ModelForecast(
        np.arange(rows), np.full(rows, name), yhat, {}, cal, calibration="conformal"
    )


def test_candidates_are_singles_then_pairs_then_triples() -> None:
    cands = candidates(["a", "b", "c", "d"])
    assert cands[:4] == [("a",), ("b",), ("c",), ("d",)]
    assert len(cands) == 4 + 6 + 4
    assert members_of("a+b") == ("a", "b")


def test_an_ensemble_is_chosen_where_its_members_err_in_opposite_directions() -> None:
    rng = np.random.default_rng(0)
    actual = rng.poisson(20, (40, 6)).astype(float)
    high, low = actual * 1.2, actual * 0.8  # each 20% off, their mean exact
    noisy = actual + rng.normal(0, 3, actual.shape)
    forecasts = {
        "high": _fc(40, high, high, "high"),
        "low": _fc(40, low, low, "low"),
        "noisy": _fc(40, noisy, noisy, "noisy"),
    }
    seg = np.array(["smooth"] * 40)
    choice = choose(forecasts, actual, seg, np.zeros(0, dtype=np.int64))
    assert choice == {"smooth": "high+low"}
    yhat, cal, used = ensemble_arrays(forecasts, "high+low")
    np.testing.assert_allclose(yhat, actual)
    assert (used == "high+low").all()


def test_ties_go_to_the_candidate_with_fewer_members() -> None:
    actual = np.full((10, 4), 5.0)
    exact = _fc(10, actual.copy(), actual.copy(), "exact")
    also = _fc(10, actual.copy(), actual.copy(), "also")
    choice = choose({"exact": exact, "also": also}, actual, np.array(["smooth"] * 10), np.zeros(0))
    assert choice["smooth"] in ("also", "exact")


def test_residual_scale_follows_the_forecast_and_keeps_a_floor() -> None:
    level = np.array([10.0, 10.0, 0.0])
    yhat = np.array([[10.0, 10.0], [40.0, 40.0], [0.0, 0.0]])
    np.testing.assert_allclose(residual_scale(level, yhat), [10.0, 20.0, 0.05])


def test_engine_auto_matches_its_chosen_candidate_with_intervals_of_its_own() -> None:
    """Real fits: every series of a segment gets the chosen single model or ensemble."""
    rng = np.random.default_rng(4)
    d0 = dt.date(2022, 1, 7)
    rows = []
    for i in range(8):
        base = rng.uniform(5, 30)
        for w in range(80):
            season = 1 + 0.3 * np.sin(2 * np.pi * w / 52)
            rows.append(
                ("S", f"P{i}", d0 + dt.timedelta(weeks=w), float(rng.poisson(base * season)))
            )
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    panel = build_panel(hist, "W", d0 + dt.timedelta(weeks=79), horizon=8)
    end = panel.y.shape[1] - 1
    res = forecast_panel(panel, end, EngineConfig(horizon=8, prophet_series=0, lightgbm=FAST))
    auto = res.forecasts[AUTO]
    for seg, name in res.choice.items():
        where = res.segment == seg
        chosen = res.forecasts[name]
        np.testing.assert_allclose(auto.yhat[where], chosen.yhat[where])
        if len(members_of(name)) > 1:
            mean = np.mean([res.forecasts[m].yhat[where] for m in members_of(name)], axis=0)
            np.testing.assert_allclose(auto.yhat[where], mean)
            assert chosen.calibration.startswith(("conformal", "model-based"))
    lo, hi = auto.interval(80)
    assert (lo <= auto.yhat).all() and (auto.yhat <= hi).all() and (hi > lo).any()


def test_scale_groups_keep_a_near_dead_series_tail_out_of_the_others_intervals() -> None:
    """Series with almost no recent sales jump to many times their scale; the steady sellers'
    intervals come from their own quintile of scales."""
    rng = np.random.default_rng(1)
    n, h = 1000, 4
    level = np.where(np.arange(n) < 200, 0.05, rng.uniform(10, 50, n))
    yhat = np.repeat(level[:, None], h, axis=1)
    actual = yhat + rng.normal(0, 1, (n, h)) * level[:, None] * 0.2
    actual[:200] = rng.choice([0.0, 5.0], (200, h), p=[0.7, 0.3])  # spikes of 100 x the scale
    s = residual_scale(level, yhat)
    groups, later = scale_groups(s, s)
    assert set(groups) == {"scale q1", "scale q2", "scale q3", "scale q4", "scale q5"}
    buckets = horizon_buckets(h, "W")
    pooled = ConformalTable.fit(actual, yhat, s, np.array(["*"] * n), buckets, [0.1, 0.9])
    grouped = ConformalTable.fit(actual, yhat, s, groups, buckets, [0.1, 0.9], "scale group")
    assert "by scale group x horizon" in grouped.method
    steady = np.arange(200, n)
    hi_pooled = pooled.apply(yhat, s, np.array(["*"] * n), buckets)[0.9][steady]
    hi_grouped = grouped.apply(yhat, s, later, buckets)[0.9][steady]
    covered = (actual[steady] <= hi_grouped).mean()
    assert (hi_grouped <= hi_pooled).all() and 0.85 <= covered <= 0.95


def test_validation_windows_by_frequency_capped_by_history() -> None:
    assert validation_windows("D", 700, 28) == 1
    assert validation_windows("W", 116, 26) == 1
    assert validation_windows("W", 116, 26, requested=3) == 3  # the oldest fits on 39 weeks
    assert validation_windows("W", 90, 26, requested=3) == 2  # the third would fit on 13 < 26
    assert validation_windows("W", 15, 8, requested=3) == 1  # two horizons only


def test_refit_only_when_the_cutoff_alone_holds_a_season_plus_a_horizon() -> None:
    assert needs_refit(52, 64, 90, 26)  # store-item to 2016-12-30: 65 weeks at the origin, 91
    assert not needs_refit(52, 90, 116, 26)  # 117 weeks: the origin already holds 91 >= 78
    assert not needs_refit(52, 34, 42, 8)  # 43 weeks: no year-ago values at either origin
    assert not needs_refit(7, 672, 700, 28)  # daily


def _weekly_panel(
    seed: int, series: int, weeks: int, base: float, step: float, horizon: int
) -> Panel:
    """A weekly panel of `series` Poisson series (mean base + step x i) over `weeks` weeks."""
    rng = np.random.default_rng(seed)
    d0 = dt.date(2022, 1, 7)
    rows = [
        ("S", f"P{i}", d0 + dt.timedelta(weeks=w), float(rng.poisson(base + step * i)))
        for i in range(series)
        for w in range(weeks)
    ]
    hist = pl.DataFrame(rows, schema=["store_id", "product_id", "ds", "y"], orient="row")
    return build_panel(hist, "W", d0 + dt.timedelta(weeks=weeks - 1), horizon=horizon)


def test_weekly_engine_calibrates_on_three_windows_and_chunks_match() -> None:
    """Real fits: 3 validation windows when asked (the intervals pool them; the choice reads the
    newest); the chunked path (per-series models
    on an executor) gives the same stacked windows and forecasts as the in-process one."""
    panel = _weekly_panel(seed=6, series=7, weeks=60, base=5, step=3, horizon=6)
    models = ("moving_average", "tsb")
    cfg = EngineConfig(horizon=6, prophet_series=0, lightgbm=FAST, models=models, windows=3)
    local = forecast_panel(panel, 59, cfg)
    chunked = forecast_panel(panel, 59, cfg, executor=InlineExecutor(), chunk=3)
    assert "3 windows of 6" in local.calibration
    for name in ("moving_average", "tsb"):
        assert local.forecasts[name].cal_yhat.shape == (3 * 7, 6)
        np.testing.assert_allclose(local.forecasts[name].cal_yhat, chunked.forecasts[name].cal_yhat)
        np.testing.assert_allclose(local.forecasts[name].yhat, chunked.forecasts[name].yhat)
    ma = local.forecasts["moving_average"].cal_yhat  # oldest window: mean of weeks 34..41
    np.testing.assert_allclose(
        ma[14:], np.repeat(panel.y[:, 34:42].mean(1)[:, None], 6, 1), rtol=1e-6
    )


def test_a_short_weekly_history_refits_lightgbm_at_the_cutoff() -> None:
    """Real fits: 66 weeks, h=8: the validation origin holds 58 < 52 + 8 weeks, the cutoff 66,
    so LightGBM's forecast is a booster fitted at the cutoff (not the validation one reused)."""
    panel = _weekly_panel(seed=8, series=6, weeks=66, base=8, step=4, horizon=8)
    models = ("moving_average", "lightgbm")
    cfg = EngineConfig(horizon=8, prophet_series=0, lightgbm=FAST, models=models)
    res = forecast_panel(panel, 65, cfg)
    at_cutoff = forecast_panel(panel, 65, replace(cfg, refit=True))
    reused = forecast_panel(panel, 65, replace(cfg, refit=False))
    np.testing.assert_allclose(res.forecasts["lightgbm"].yhat, at_cutoff.forecasts["lightgbm"].yhat)
    assert not np.allclose(res.forecasts["lightgbm"].yhat, reused.forecasts["lightgbm"].yhat)
