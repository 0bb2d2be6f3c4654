"""LightGBM global model: one model for all series, direct multi-step with the horizon as a feature.

Training rows are (series, origin, horizon) triples sampled from past origins whose targets lie
at or before the fit cutoff; features read history up to the origin only (`forecasting.features`).
Prediction uses the cutoff as the origin for every horizon 1..h at once (no recursion, so no
error feedback and no need to forecast the features). Objective: tweedie on `y / scale`, weighted
by `scale`, so the loss is on the units' scale (like the M5 winners' tweedie models).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # spinning threads hurt on shared cores

import lightgbm as lgb
import numpy as np

from forecasting.data import Panel
from forecasting.features import (
    CATEGORICAL,
    DRIVER_GROUPS,
    FEATURE_NAMES,
    PanelStats,
    blank_unseen_year_ago,
    build_features,
    months_with_year_ago,
)


@dataclass(frozen=True)
class LightGBMConfig:
    """Options of the global model.

    Attributes:
        horizon: the longest horizon trained (periods).
        history: periods of past origins used for training.
        origin_step: periods between training origins.
        max_rows: cap on training rows (horizons are sampled per series x origin).
        min_age: periods a series must have existed at an origin to be trained on.
        n_estimators, learning_rate, num_leaves, min_data_in_leaf: LightGBM options.
        tweedie_variance_power: 1 = poisson, 2 = gamma.
        objective: "tweedie" (the mean; for demand), "l1" (the median: what WAPE rewards on
            lumpy series) or "l2". A panel with negative values (returns) trains "l2" instead of
            "tweedie", which needs non-negative targets.
        num_threads: LightGBM threads.
        seed: sampling and bagging seed.
        bags: boosters trained on independent row samples (seeds seed, seed + 1, ...) and
            averaged; the median objective on lumpy series varies a lot from sample to sample.
    """

    horizon: int = 90
    history: int = 400
    origin_step: int = 3
    max_rows: int = 250_000
    min_age: int = 14
    n_estimators: int = 200
    learning_rate: float = 0.08
    num_leaves: int = 31
    min_data_in_leaf: int = 100
    tweedie_variance_power: float = 1.2
    num_threads: int = 2
    seed: int = 0
    objective: str = "tweedie"
    bags: int = 1

    def __post_init__(self) -> None:
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1, got {self.horizon}")
        if self.origin_step < 1 or self.history < 1 or self.max_rows < 1000:
            raise ValueError("origin_step and history must be >= 1, max_rows >= 1000")
        if not 1.0 <= self.tweedie_variance_power < 2.0:
            raise ValueError("tweedie_variance_power must be in [1, 2)")
        if self.objective not in ("tweedie", "l1", "l2"):
            raise ValueError(f"objective {self.objective!r}: expected tweedie, l1 or l2")


@dataclass
class LightGBMGlobal:
    """The global model behind the `Forecaster` protocol."""

    config: LightGBMConfig = field(default_factory=LightGBMConfig)
    name: str = "lightgbm"

    def _codes(self, panel: Panel) -> tuple[np.ndarray, np.ndarray]:
        _, stores = np.unique(panel.store_id, return_inverse=True)
        _, cats = np.unique(panel.category, return_inverse=True)
        return stores.astype(np.float32), cats.astype(np.float32)

    def training_rows(
        self, panel: Panel, end: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows, origins, horizons) sampled so that every target is at or before `end`."""
        cfg = self.config
        step = cfg.origin_step if panel.freq == "D" else 1
        origins = np.arange(end - 1, max(end - cfg.history, 0), -step)
        series_grid, origin_grid = np.meshgrid(np.arange(panel.n), origins, indexing="ij")
        series, orig = series_grid.ravel(), origin_grid.ravel()
        keep = orig - panel.start[series] >= min(cfg.min_age, panel.season * 2)
        series, orig = series[keep], orig[keep]
        if series.size == 0:
            raise ValueError("not enough history to train the LightGBM model")
        if series.size > cfg.max_rows:  # many series: a random subset of (series, origin) pairs
            pick = np.sort(rng.choice(series.size, cfg.max_rows, replace=False))
            series, orig = series[pick], orig[pick]
        per_pair = max(1, min(cfg.horizon, cfg.max_rows // series.size))
        series = np.repeat(series, per_pair)
        orig = np.repeat(orig, per_pair)
        max_h = np.minimum(cfg.horizon, end - orig)
        horizon = 1 + (rng.random(series.size) * max_h).astype(np.int64)
        return series, orig, horizon

    def fit(self, panel: Panel, end: int) -> LightGBMGlobal:
        """Train on origins before `end` with targets through `end` (`bags` boosters)."""
        self._panel, self._end = panel, end
        self._stats = PanelStats(panel)
        self._stores, self._cats = self._codes(panel)
        self.year_ago_months: tuple[int, ...] = ()
        self.boosters = [
            self._fit_one(panel, end, self.config.seed + b) for b in range(self.config.bags)
        ]
        self.booster = self.boosters[0]
        return self

    def _fit_one(self, panel: Panel, end: int, seed: int) -> lgb.Booster:
        cfg = self.config
        rng = np.random.default_rng(seed)
        rows, orig, hor = self.training_rows(panel, end, rng)
        x, scale = build_features(panel, self._stats, rows, orig, hor, self._stores, self._cats)
        seen = set(self.year_ago_months) | set(months_with_year_ago(x))
        self.year_ago_months = tuple(sorted(seen))
        target = panel.y[rows, orig + hor] / scale
        objective = cfg.objective
        if objective == "tweedie" and (target < 0).any():
            objective = "l2"  # tweedie needs non-negative targets: net sales with returns
        self.objective = objective
        params = {
            "objective": objective,
            "tweedie_variance_power": cfg.tweedie_variance_power,
            "learning_rate": cfg.learning_rate,
            "num_leaves": cfg.num_leaves,
            "min_data_in_leaf": cfg.min_data_in_leaf,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "lambda_l2": 1.0,
            "num_threads": cfg.num_threads,
            "seed": seed,
            "verbose": -1,
            "max_cat_to_onehot": 64,
            "max_bin": 63,
        }
        data = lgb.Dataset(
            x,
            label=target,
            weight=scale,
            feature_name=list(FEATURE_NAMES),
            categorical_feature=list(CATEGORICAL),
            free_raw_data=True,
        )
        return lgb.train(params, data, num_boost_round=cfg.n_estimators)

    def with_origin(self, panel: Panel, end: int) -> LightGBMGlobal:
        """Forecast from a later origin `end` with the same booster (no refit)."""
        if panel is not self._panel:
            self._stats = PanelStats(panel)
            self._stores, self._cats = self._codes(panel)
        self._panel, self._end = panel, end
        return self

    def _prediction_features(
        self, h: int | np.ndarray, series: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        series = np.arange(self._panel.n) if series is None else series
        n = series.size
        steps = np.arange(1, h + 1) if isinstance(h, int | np.integer) else np.asarray(h)
        rows = np.repeat(series, steps.size)
        orig = np.full(rows.size, self._end)
        hor = np.tile(steps, n)
        x, scale = build_features(
            self._panel, self._stats, rows, orig, hor, self._stores, self._cats
        )
        return blank_unseen_year_ago(x, self.year_ago_months), scale

    def predict(self, h: int) -> np.ndarray:
        """(n, h) forecasts from origin `end`; NaN rows where a prediction is not finite."""
        x, scale = self._prediction_features(h)
        threads = self.config.num_threads
        return median_forecast(self.boosters, x, scale, h, self._panel.floor, threads)

    def drivers(self, series: np.ndarray) -> np.ndarray:
        """(len(series), len(DRIVER_GROUPS)) contributions (units) to the next period's forecast.

        LightGBM's `pred_contrib` (SHAP) is on the raw (log-link) score; each group's share of the
        summed non-bias contributions is applied to the forecast's deviation from the
        bias-only forecast, so contributions are in units and add up to that deviation.
        SHAP costs about a millisecond per row, so callers pass the series they need.
        """
        x, scale = self._prediction_features(np.array([1]), series)
        threads = self.config.num_threads
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=threads))
        pred = self.booster.predict(x, num_threads=threads) * scale
        link = np.exp if self.objective == "tweedie" else (lambda v: v)
        base = link(contrib[:, -1]) * scale
        raw = contrib[:, :-1]
        total = raw.sum(axis=1)
        share = np.divide(raw, total[:, None], out=np.zeros_like(raw), where=total[:, None] != 0)
        units = share * (pred - base)[:, None]
        index = {name: i for i, name in enumerate(FEATURE_NAMES)}
        return np.column_stack(
            [units[:, [index[f] for f in feats]].sum(axis=1) for feats in DRIVER_GROUPS.values()]
        )


def median_forecast(
    boosters: Sequence[lgb.Booster],
    x: np.ndarray,
    scale: np.ndarray,
    h: int,
    floor: float,
    threads: int = 0,
) -> np.ndarray:
    """(series, h) forecasts from feature rows `x` (series x h, in that order) and their
    `scale`: the median over the boosters of prediction x scale, floored at `floor`; NaN rows
    where a prediction is not finite. Shared by `LightGBMGlobal.predict` and the chunked
    prediction of `forecasting.fanout`, so both give the same numbers."""
    pred = np.median([b.predict(x, num_threads=threads) for b in boosters], axis=0) * scale
    out = np.maximum(pred.reshape(-1, h), floor)
    out[~np.isfinite(out).all(axis=1)] = np.nan
    return out
