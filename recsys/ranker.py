"""The learned ranking stage: LightGBM over the candidate sources' union.

Training windows live inside the training data: for an inner cutoff c, sources and features
are fitted on sales strictly before c (`cut_before`), and the label of a candidate is whether
the customer bought it in [c, c + horizon). Windows at `cutoffs` days before the end are
stacked (one window of a small shop holds only a thousand or so customers). Customers in a
window are those who bought both before and within it. Objective `lambdarank` (groups =
customers) or `binary`. `split_models=True` trains one model for already-bought candidates and
one for the rest (the alternative to one model with the `ux_bought` feature).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import lightgbm as lgb
import numpy as np
import polars as pl

from recsys.base import BaseRecommender
from recsys.candidates import Candidates, SourceConfig, Sources, fit_sources, generate
from recsys.data import TrainData, cut_before
from recsys.errors import RecsysError
from recsys.features import CATEGORICAL, FEATURES, feature_matrix
from recsys.paths import PathTables, path_contributions, path_tables

#: Ranker scores are shifted into (BAND, BAND + 1]; non-candidates keep popularity in [0, 1).
BAND = 10.0


@dataclass(frozen=True)
class RankerConfig:
    """Windows, objective and LightGBM settings."""

    cutoffs: tuple[float, ...] = (70.0, 105.0, 140.0, 175.0)
    horizon_days: float = 70.0
    objective: str = "lambdarank"
    split_models: bool = True
    negatives_per_user: int = 60
    all_own_negatives: bool = True
    num_boost_round: int = 120
    learning_rate: float = 0.08
    num_leaves: int = 15
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    seed: int = 0
    num_threads: int = 1
    sources: SourceConfig = field(default_factory=SourceConfig)
    two_tower_epochs: int = 1
    two_tower_examples: int = 60_000
    #: At most this many customers per window (a seeded sample), None = all. A shop with 20,000
    #: customers stacks ~4.8M rows over four windows (6-7 minutes in one thread).
    max_users_per_window: int | None = None

    def __post_init__(self) -> None:
        if self.objective not in ("lambdarank", "binary"):
            raise RecsysError(f"objective: 'lambdarank' or 'binary', got {self.objective!r}")
        if self.max_users_per_window is not None and self.max_users_per_window < 1:
            raise RecsysError(
                f"max_users_per_window: a positive count or None, got {self.max_users_per_window}"
            )
        if not self.cutoffs or min(self.cutoffs) <= 0 or self.horizon_days <= 0:
            raise RecsysError("cutoffs and horizon_days must be positive")

    def to_json(self) -> dict[str, Any]:
        """The config as JSON-ready values (saved in the registry manifest)."""
        return {**asdict(self), "cutoffs": list(self.cutoffs)}

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> RankerConfig:
        """The config saved by `to_json`."""
        return cls(
            **{
                **payload,
                "cutoffs": tuple(payload["cutoffs"]),
                "sources": SourceConfig(**payload["sources"]),
            }
        )


def _two_tower(data: TrainData, cfg: RankerConfig) -> object | None:
    if not cfg.sources.use_two_tower:
        return None
    from recsys.train import TwoTowerConfig, TwoTowerRecommender

    tt = TwoTowerConfig(
        epochs=cfg.two_tower_epochs,
        max_examples_per_epoch=cfg.two_tower_examples,
        val_days=0,
        seed=cfg.seed,
        show_progress=False,
    )
    return TwoTowerRecommender(tt).fit(data)


def window_rows(
    data: TrainData, cutoff: float, cfg: RankerConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(features [n, F], labels [n], group user ids [n]) of the window starting at `cutoff`."""
    before = cut_before(data, cutoff)
    after = data.events.filter(
        (pl.col("t_days") >= cutoff) & (pl.col("t_days") < cutoff + cfg.horizon_days)
    )
    users = np.intersect1d(
        before.events["user"].unique().to_numpy(), after["user"].unique().to_numpy()
    )
    if users.size == 0 or before.events.height == 0:
        return None
    cap = cfg.max_users_per_window
    if cap is not None and users.size > cap:
        users = np.sort(rng.choice(users, cap, replace=False))
    sources = fit_sources(before, cfg.sources, _two_tower(before, cfg))
    cands = generate(sources, before, users)
    target = np.unique(
        after["user"].to_numpy().astype(np.int64) * data.n_items + after["item"].to_numpy()
    )
    labels = np.isin(cands.user * data.n_items + cands.item, target).astype(np.float32)
    # keep every positive, and `negatives_per_user` random negatives per customer
    noise = rng.random(cands.size)
    neg_rank = (
        pl.DataFrame({"u": cands.user, "r": noise})
        .with_columns(k=pl.col("r").rank("ordinal").over("u"))["k"]
        .to_numpy()
    )
    keep = (labels > 0) | (neg_rank <= cfg.negatives_per_user)
    if cfg.all_own_negatives:  # the own-items model sees every own candidate, as in serving
        keep |= np.asarray(before.counts()[cands.user, cands.item]).ravel() > 0
    has_pos = np.isin(cands.user, cands.user[labels > 0])
    keep &= has_pos
    x = feature_matrix(before, cands, sources.category_codes)[keep]
    return x, labels[keep], cands.user[keep] + int(cutoff) * 10_000_000


def _rounds_shown(
    label: str, rows: int, cfg: RankerConfig, start: float, progress: bool
) -> list[Any]:
    """LightGBM callbacks printing the boosting rounds of one model (none without progress)."""
    if not progress:
        return []
    print(f"  ranker {label}: {rows:,} rows, {cfg.num_boost_round} rounds", flush=True)
    step = max(cfg.num_boost_round // 4, 1)

    def show(env: Any) -> None:
        done = env.iteration + 1
        if done % step == 0 or done == env.end_iteration:
            print(
                f"    round {done}/{env.end_iteration} ({time.perf_counter() - start:.1f} s)",
                flush=True,
            )

    return [show]


def _train_booster(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    cfg: RankerConfig,
    names: tuple[str, ...] = FEATURES,
    callbacks: list[Any] | None = None,
) -> lgb.Booster:
    """A LightGBM booster on rows `x` [n, len(names)] (bench variants pass other columns)."""
    order = np.argsort(groups, kind="stable")
    x, y, groups = x[order], y[order], groups[order]
    _, sizes = np.unique(groups, return_counts=True)
    params: dict[str, Any] = {
        "objective": cfg.objective,
        "learning_rate": cfg.learning_rate,
        "num_leaves": cfg.num_leaves,
        "min_data_in_leaf": cfg.min_data_in_leaf,
        "feature_fraction": cfg.feature_fraction,
        "bagging_fraction": cfg.bagging_fraction,
        "bagging_freq": 1,
        "seed": cfg.seed,
        "num_threads": cfg.num_threads,
        "verbose": -1,
        "deterministic": True,
        "max_bin": 63,
    }
    if cfg.objective == "lambdarank":
        params.update(lambdarank_truncation_level=30, eval_at=[20])
    dataset = lgb.Dataset(
        x,
        y,
        group=sizes if cfg.objective == "lambdarank" else None,
        feature_name=list(names),
        categorical_feature=[c for c in CATEGORICAL if c in names],
        free_raw_data=True,
    )
    return lgb.train(params, dataset, num_boost_round=cfg.num_boost_round, callbacks=callbacks)


@dataclass
class RankerModel:
    """Fitted boosters (one, or own-items / new-items) and the config they were trained with."""

    config: RankerConfig
    boosters: dict[str, lgb.Booster]
    stats: dict[str, Any] = field(default_factory=dict)
    _paths: dict[str, PathTables] = field(default_factory=dict, repr=False)

    @classmethod
    def fit(cls, data: TrainData, cfg: RankerConfig, progress: bool = False) -> RankerModel:
        """Build the windows inside `data` and train."""
        rng = np.random.default_rng(cfg.seed)
        parts = []
        start, cpu = time.perf_counter(), time.process_time()
        for cutoff in cfg.cutoffs:
            rows = window_rows(data, data.as_of - cutoff, cfg, rng)
            if rows is not None:
                parts.append(rows)
            if progress:
                print(
                    f"  ranker window -{cutoff:.0f} d: {0 if rows is None else len(rows[1]):,}"
                    f" rows ({time.perf_counter() - start:.1f} s)",
                    flush=True,
                )
        if not parts:
            raise RecsysError("ranker: no training window has customers before and after it")
        x = np.vstack([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        g = np.concatenate([p[2] for p in parts])
        boosters: dict[str, lgb.Booster] = {}
        if cfg.split_models:
            bought = x[:, FEATURES.index("ux_bought")] == 1
            for name, mask in (("own", bought), ("new", ~bought)):
                rounds = _rounds_shown(f"{name} items", int(mask.sum()), cfg, start, progress)
                boosters[name] = _train_booster(x[mask], y[mask], g[mask], cfg, callbacks=rounds)
        else:
            rounds = _rounds_shown("all items", y.size, cfg, start, progress)
            boosters["all"] = _train_booster(x, y, g, cfg, callbacks=rounds)
        stats = {
            "rows": int(y.size),
            "positives": int(y.sum()),
            "windows": len(parts),
            "fit_s": round(time.perf_counter() - start, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
        }
        return cls(cfg, boosters, stats)

    def to_files(self) -> dict[str, bytes]:
        """File name -> bytes: one LightGBM text model per booster and ranker.json."""
        files = {
            f"ranker_{name}.txt": booster.model_to_string().encode()
            for name, booster in self.boosters.items()
        }
        files["ranker.json"] = json.dumps(
            {
                "config": self.config.to_json(),
                "boosters": sorted(self.boosters),
                "stats": self.stats,
            },
            default=str,
        ).encode()
        return files

    @classmethod
    def from_files(cls, folder: Path) -> RankerModel:
        """Load what `to_files` wrote (the registry checks the checksums first)."""
        meta = json.loads((folder / "ranker.json").read_text(encoding="utf-8"))
        boosters = {
            name: lgb.Booster(model_str=(folder / f"ranker_{name}.txt").read_text(encoding="utf-8"))
            for name in meta["boosters"]
        }
        for name, booster in boosters.items():
            if tuple(booster.feature_name()) != FEATURES:
                raise RecsysError(
                    f"{folder}: ranker_{name}.txt was trained on other features than this "
                    "version of recsys/features.py; train a new model version"
                )
        return cls(RankerConfig.from_json(meta["config"]), boosters, meta.get("stats", {}))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """[n] scores; with split models own items get +BAND over new items (own first)."""
        if "all" in self.boosters:
            return np.asarray(self.boosters["all"].predict(x, num_threads=self.config.num_threads))
        bought = x[:, FEATURES.index("ux_bought")] == 1
        out = np.empty(len(x), np.float64)
        for name, mask, shift in (("own", bought, 0.0), ("new", ~bought, -2 * BAND)):
            if mask.any():
                out[mask] = (
                    np.asarray(
                        self.boosters[name].predict(x[mask], num_threads=self.config.num_threads)
                    )
                    + shift
                )
        return out

    def _masks(self, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
        if "all" in self.boosters:
            return [("all", np.ones(len(x), bool))]
        bought = x[:, FEATURES.index("ux_bought")] == 1
        return [("own", bought), ("new", ~bought)]

    def path_tables(self, name: str) -> PathTables:
        """The per-leaf path credits of booster `name` (built once, then cached)."""
        if name not in self._paths:
            self._paths[name] = path_tables(self.boosters[name])
        return self._paths[name]

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """[n, len(FEATURES)] per-feature path contributions (`recsys.paths`; bias dropped):
        each row sums to its booster's raw score minus the booster's bias."""
        out = np.zeros((len(x), len(FEATURES)), np.float64)
        for name, mask in self._masks(x):
            if mask.any():
                out[mask] = path_contributions(
                    self.boosters[name], self.path_tables(name), x[mask], self.config.num_threads
                )
        return out

    def shap_contributions(self, x: np.ndarray) -> np.ndarray:
        """[n, len(FEATURES)] TreeSHAP contributions (LightGBM `pred_contrib`, bias dropped):
        ~100x the cost of `contributions`; the bench compares the two."""
        out = np.zeros((len(x), len(FEATURES)), np.float64)
        for name, mask in self._masks(x):
            if mask.any():
                out[mask] = np.asarray(
                    self.boosters[name].predict(
                        x[mask], pred_contrib=True, num_threads=self.config.num_threads
                    )
                )[:, :-1]
        return out


class RankerRecommender(BaseRecommender):
    """Sources -> candidates -> features -> LightGBM; dense scores for the shared harness.

    Candidates get BAND + (1 - rank / (n + 1)) of their ranker score within the customer's
    candidates (so a list never depends on the batch it was scored in); other items keep
    recent popularity scaled into [0, 1) so filters always leave a full list.
    """

    name = "ranker"

    def __init__(self, config: RankerConfig = RankerConfig(), progress: bool = False) -> None:
        self.config = config
        self.progress = progress
        self.model: RankerModel | None = None
        self.sources: Sources | None = None
        self.fit_s: dict[str, float] = {}
        self.exclude: dict[str, bool] = {}

    def fit(self, data: TrainData) -> Self:
        """Fit the ranker and its candidate sources on `data`."""
        start = time.perf_counter()
        self.model = RankerModel.fit(data, self.config, self.progress)
        mid = time.perf_counter()
        self.sources = fit_sources(data, self.config.sources, _two_tower(data, self.config))
        self.fit_s = {
            "ranker_s": round(mid - start, 2),
            "sources_s": round(time.perf_counter() - mid, 2),
        }
        return self

    def candidate_scores(
        self, data: TrainData, users: np.ndarray
    ) -> tuple[Candidates, np.ndarray, np.ndarray]:
        """(candidates, features [n, F], ranker scores [n]) of `users` of `data`."""
        if self.model is None or self.sources is None:
            raise RecsysError("ranker: model is not fitted")
        cands = generate(self.sources, data, users)
        x = feature_matrix(data, cands, self.sources.category_codes)
        return cands, x, self.model.predict(x)

    def score(self, data: TrainData, users: np.ndarray) -> np.ndarray:
        """Scores `[n_users, n_items]`: ranked candidates above popularity for the rest."""
        users = np.asarray(users, dtype=np.int64)
        assert self.sources is not None
        pop = self.sources.popular / max(float(self.sources.popular.max()), 1e-9) * 0.999
        out = np.broadcast_to(pop, (len(users), data.n_items)).astype(np.float32).copy()
        cands, _, pred = self.candidate_scores(data, users)
        row = (
            np.searchsorted(users, cands.user)
            if np.all(np.diff(users) >= 0)
            else np.array([int(np.flatnonzero(users == u)[0]) for u in cands.user])
        )
        out[row, cands.item] = BAND + rank_unit(cands.user, pred)
        return out


def rank_unit(users: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """Per user, 1 - rank / (n + 1) of each prediction (best = nearest 1): batch-independent."""
    order = np.lexsort((-pred, users))
    ranks = np.empty(len(pred), np.float64)
    sizes = (
        np.bincount(np.searchsorted(np.unique(users), users))
        if len(users)
        else np.zeros(0, np.int64)
    )
    starts = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    ranks[order] = np.arange(len(pred)) - np.repeat(starts, sizes) + 1
    n = np.repeat(sizes, sizes)[np.argsort(order)] if len(users) else np.zeros(0)
    return (1.0 - ranks / (n + 1.0)).astype(np.float32)
