"""Training the two-tower model, and the model as a `Recommender`.

Examples are purchase events (customer x product x order); the customer's history for an
example is their purchases in earlier orders only (no leakage of the target). The last
`val_days` before the end of the data are held out for early stopping on new-item recall@K.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass
from typing import Any, Self

import numpy as np
import polars as pl
import scipy.sparse as sp
import torch
from tqdm.auto import tqdm

from recsys.base import BaseRecommender, top_k
from recsys.data import TrainData
from recsys.errors import RecsysError
from recsys.metrics import ranking_metrics
from recsys.task import sampled_softmax_loss
from recsys.towers import FeatureSpec, TwoTower


@dataclass(frozen=True)
class TwoTowerConfig:
    """Two-tower options (sizes, optimisation, early stopping, determinism)."""

    dim: int = 64
    epochs: int = 5
    batch_size: int = 1024
    learning_rate: float = 3e-3
    temperature: float = 0.05
    logq_weight: float = 1.0
    history_len: int = 30
    history_half_life_days: float = 60.0
    id_dropout: float = 0.3
    val_days: float = 28.0
    val_users: int = 2000
    val_k: int = 20
    patience: int = 1
    max_examples_per_epoch: int = 150_000
    seed: int = 0
    num_threads: int = 1
    show_progress: bool = True

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size", "history_len", "val_k", "num_threads"):
            if getattr(self, name) < 1:
                raise RecsysError(f"{name}: must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.logq_weight <= 1:
            raise RecsysError(f"logq_weight: must be in [0, 1], got {self.logq_weight}")
        for name in ("learning_rate", "temperature", "history_half_life_days"):
            if getattr(self, name) <= 0:
                raise RecsysError(f"{name}: must be positive, got {getattr(self, name)}")
        if not 0 <= self.id_dropout < 1:
            raise RecsysError(f"id_dropout: must be in [0, 1), got {self.id_dropout}")
        if self.val_days < 0 or self.patience < 0 or self.max_examples_per_epoch < 2:
            raise RecsysError("val_days, patience must be >= 0 and max_examples_per_epoch >= 2")


def pick_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class TwoTowerRecommender(BaseRecommender):
    """The neural retrieval model (see `recsys.towers`)."""

    name = "two-tower"

    def __init__(self, config: TwoTowerConfig = TwoTowerConfig()) -> None:
        self.config = config
        self.device = pick_device()
        self.net: TwoTower | None = None
        self.spec: FeatureSpec | None = None
        self.user_id_map: dict[str, int] = {}
        self.item_id_map: dict[str, int] = {}
        self.history: list[dict[str, float]] = []
        self.examples_per_s = float("nan")
        self._item_cache: dict[int, tuple[Any, torch.Tensor]] = {}

    # ----- training -------------------------------------------------------------------------
    def fit(self, data: TrainData) -> Self:
        cfg = self.config
        torch.manual_seed(cfg.seed)
        rng = np.random.default_rng(cfg.seed)
        torch.set_num_threads(cfg.num_threads)
        events = data.events
        t = events["t_days"].to_numpy()
        first_t = float(t.min())
        cut = data.as_of - cfg.val_days
        if cfg.val_days == 0 or cut - first_t < cfg.val_days:
            cut = data.as_of  # too little data to hold out a validation period
        train_mask = t < cut
        train_items = np.unique(events["item"].to_numpy()[train_mask])
        train_users = np.unique(events["user"].to_numpy()[train_mask])
        self.item_id_map = {data.catalogue.item_ids[i]: j + 1 for j, i in enumerate(train_items)}
        self.user_id_map = {data.user_ids[u]: j + 1 for j, u in enumerate(train_users)}
        self.spec = FeatureSpec.fit(data.catalogue.products)
        self.net = TwoTower(
            len(self.user_id_map),
            len(self.item_id_map),
            self.spec,
            cfg.dim,
            cfg.id_dropout,
            cfg.history_half_life_days,
        ).to(self.device)
        self._item_cache.clear()

        positions = _history_positions(events)
        examples = np.flatnonzero(train_mask)
        if examples.size < 2:
            raise RecsysError("two-tower: fewer than 2 training purchases; nothing to learn")
        item_of = events["item"].to_numpy().astype(np.int64)
        counts = np.bincount(item_of[examples], minlength=data.n_items).astype(np.float64)
        share = np.maximum(counts, 1) / examples.size
        log_q = torch.as_tensor(
            cfg.logq_weight * np.log(share), dtype=torch.float32, device=self.device
        )
        model_user = self._model_users(data, np.arange(data.n_users))
        features = self.spec.encode(data.catalogue.products, self.item_id_map).tensors(self.device)
        validation = self._validation_set(data, cut, rng) if cut < data.as_of else None

        sparse_params = self.net.sparse_parameters()
        sparse_ids = {id(p) for p in sparse_params}
        dense_params = [p for p in self.net.parameters() if id(p) not in sparse_ids]
        optimisers = [
            torch.optim.SparseAdam(sparse_params, lr=cfg.learning_rate),
            torch.optim.Adam(dense_params, lr=cfg.learning_rate),
        ]
        tensors = {
            "item": torch.as_tensor(item_of, device=self.device),
            "t": torch.as_tensor(t.copy(), dtype=torch.float64, device=self.device),
            "user": torch.as_tensor(model_user[events["user"].to_numpy()], device=self.device),
            "order_start": torch.as_tensor(positions[0], device=self.device),
            "user_start": torch.as_tensor(positions[1], device=self.device),
        }
        best_metric, best_state, bad_epochs = -math.inf, None, 0
        seen_examples, train_seconds = 0, 0.0
        self.history = []
        for epoch in range(cfg.epochs):
            self.net.train()
            order = self._epoch_order(rng.permutation(examples)[: cfg.max_examples_per_epoch])
            batches = range(0, order.size - 1, cfg.batch_size)
            bar = tqdm(
                batches,
                desc=f"two-tower epoch {epoch + 1}/{cfg.epochs}",
                disable=not cfg.show_progress,
                leave=False,
            )
            total, steps, start = 0.0, 0, time.perf_counter()
            for b in bar:
                idx = torch.as_tensor(order[b : b + cfg.batch_size], device=self.device)
                if idx.numel() < 2:
                    continue
                loss = self._step_loss(idx, tensors, features, log_q)
                for opt in optimisers:
                    opt.zero_grad()
                loss.backward()
                for opt in optimisers:
                    opt.step()
                total += float(loss.detach())
                steps += 1
                seen_examples += idx.numel()
                if steps % 20 == 0:
                    bar.set_postfix(loss=f"{total / steps:.3f}")
            train_seconds += time.perf_counter() - start
            record = {"epoch": epoch + 1, "loss": total / max(steps, 1)}
            if validation is not None:
                record["val_recall"] = self._validate(*validation)
            self.history.append(record)
            if cfg.show_progress:
                tqdm.write(
                    "two-tower "
                    + ", ".join(
                        f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}"
                        for k, v in record.items()
                    )
                )
            metric = record.get("val_recall", -record["loss"])
            if metric > best_metric:
                best_metric, best_state, bad_epochs = (
                    metric,
                    copy.deepcopy(self.net.state_dict()),
                    0,
                )
            else:
                bad_epochs += 1
                if bad_epochs > cfg.patience:
                    break
        if best_state is not None:
            self.net.load_state_dict(best_state)
        self.net.eval()
        self.examples_per_s = seen_examples / train_seconds if train_seconds else float("nan")
        self._item_cache.clear()
        return self

    def _epoch_order(self, order: np.ndarray) -> np.ndarray:
        """This process's share of the epoch's shuffled examples (all of them here)."""
        return order

    def _step_loss(self, idx: torch.Tensor, *tensors: Any) -> torch.Tensor:
        """The loss of one batch; `recsys.ddp` routes it through DistributedDataParallel."""
        return self._batch_loss(idx, *tensors)

    def _batch_loss(
        self,
        idx: torch.Tensor,
        tensors: dict[str, torch.Tensor],
        features: dict[str, torch.Tensor],
        log_q: torch.Tensor,
    ) -> torch.Tensor:
        assert self.net is not None
        length = self.config.history_len
        ends = tensors["order_start"][idx]
        hist_pos = ends[:, None] - length + torch.arange(length, device=idx.device)[None, :]
        valid = hist_pos >= tensors["user_start"][idx][:, None]
        hist_pos = hist_pos.clamp_min(0)
        model_items = features["item"]  # catalogue row -> model item id (0 = unknown)
        history = torch.where(
            valid, model_items[tensors["item"][hist_pos]], torch.zeros_like(hist_pos)
        )
        ages = (tensors["t"][idx][:, None] - tensors["t"][hist_pos]).float().clamp_min(0)
        targets = tensors["item"][idx]
        candidates = self.net.items({k: v[targets] for k, v in features.items()})
        queries = self.net.user_vectors(tensors["user"][idx], history, ages)
        return sampled_softmax_loss(
            queries, candidates, targets, log_q[targets], self.config.temperature
        )

    def _validation_set(
        self, data: TrainData, cut: float, rng: np.random.Generator
    ) -> tuple[Any, ...] | None:
        ev = data.events
        before = ev.filter(pl.col("t_days") < cut)
        after = ev.filter(pl.col("t_days") >= cut)
        users = np.intersect1d(
            before["user"].unique().to_numpy(), after["user"].unique().to_numpy()
        )
        if users.size == 0:
            return None
        users = np.sort(rng.choice(users, min(users.size, self.config.val_users), replace=False))
        seen = sp.csr_matrix(
            (
                np.ones(before.height, np.float32),
                (before["user"].to_numpy(), before["item"].to_numpy()),
            ),
            shape=(data.n_users, data.n_items),
        )[users]
        target = sp.csr_matrix(
            (
                np.ones(after.height, np.float32),
                (after["user"].to_numpy(), after["item"].to_numpy()),
            ),
            shape=(data.n_users, data.n_items),
        )[users]
        new_items = target - target.multiply(seen > 0)
        new_items.eliminate_zeros()
        items, ages = data.last_events(self.config.history_len, before=cut)
        return data, users, items[users], ages[users], seen, new_items

    def _validate(
        self,
        data: TrainData,
        users: np.ndarray,
        items: np.ndarray,
        ages: np.ndarray,
        seen: sp.csr_matrix,
        new_items: sp.csr_matrix,
    ) -> float:
        assert self.net is not None
        self.net.eval()
        self._item_cache.clear()
        scores = self._scores_from_history(data, users, items, ages)
        rows = np.repeat(np.arange(len(users)), np.diff(seen.indptr))
        scores[rows, seen.indices] = -np.inf
        ids, _ = top_k(scores, self.config.val_k)
        self._item_cache.clear()
        return ranking_metrics(ids, new_items.tocsr())["recall"]

    # ----- scoring ----------------------------------------------------------------------------
    def _model_users(self, data: TrainData, users: np.ndarray) -> np.ndarray:
        return np.array([self.user_id_map.get(data.user_ids[u], 0) for u in users], np.int64)

    def item_vectors(self, data: TrainData) -> torch.Tensor:
        """[data.n_items, dim] item vectors of `data`'s catalogue (cached per catalogue)."""
        if self.net is None or self.spec is None:
            raise RecsysError("two-tower: model is not fitted")
        key = id(data.catalogue)
        cached = self._item_cache.get(key)
        if cached is not None and cached[0] is data.catalogue:
            return cached[1]
        features = self.spec.encode(data.catalogue.products, self.item_id_map)
        with torch.no_grad():
            vectors = self.net.items(features.tensors(self.device))
        self._item_cache[key] = (data.catalogue, vectors)
        return vectors

    def _scores_from_history(
        self, data: TrainData, users: np.ndarray, items: np.ndarray, ages: np.ndarray
    ) -> np.ndarray:
        assert self.net is not None
        vectors = self.item_vectors(data)
        model_items = self._model_items(data)
        history = np.where(items >= 0, model_items[np.maximum(items, 0)], 0)
        with torch.no_grad():
            queries = self.net.user_vectors(
                torch.as_tensor(self._model_users(data, users), device=self.device),
                torch.as_tensor(history, device=self.device),
                torch.as_tensor(ages, device=self.device),
            )
            return (queries @ vectors.T).cpu().numpy().astype(np.float32)

    def _model_items(self, data: TrainData) -> np.ndarray:
        """[data.n_items] model item id of each catalogue row (0 = unknown)."""
        return np.array([self.item_id_map.get(p, 0) for p in data.catalogue.item_ids], np.int64)

    def user_history(self, data: TrainData) -> tuple[np.ndarray, np.ndarray]:
        """Every user's last `history_len` purchases of `data` (cached on `data`)."""
        key = f"last-{self.config.history_len}"
        if key not in data._cache:
            data._cache[key] = data.last_events(self.config.history_len)
        return data._cache[key]  # type: ignore[return-value]

    def score(self, data: TrainData, users: np.ndarray) -> np.ndarray:
        users = np.asarray(users, dtype=np.int64)
        items, ages = self.user_history(data)
        return self._scores_from_history(data, users, items[users], ages[users])

    def item_similarity(self, data: TrainData, items: np.ndarray) -> np.ndarray:
        vectors = self.item_vectors(data)
        query = vectors[torch.as_tensor(np.asarray(items), device=self.device)]
        return (query @ vectors.T).cpu().numpy().astype(np.float32)

    # ----- persistence -------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """Everything needed to rebuild the model (tensors + JSON-able metadata)."""
        if self.net is None or self.spec is None:
            raise RecsysError("two-tower: model is not fitted")
        return {
            "weights": {k: v.detach().cpu() for k, v in self.net.state_dict().items()},
            "meta": {
                "config": asdict(self.config),
                "spec": asdict(self.spec),
                "user_ids": list(self.user_id_map),
                "item_ids": list(self.item_id_map),
                "history": self.history,
            },
        }

    @classmethod
    def from_state(cls, weights: dict[str, torch.Tensor], meta: dict[str, Any]) -> Self:
        config = TwoTowerConfig(**{**meta["config"], "show_progress": False})
        model = cls(config)
        spec = meta["spec"]
        model.spec = FeatureSpec(
            tuple(spec["categories"]),
            tuple(spec["price_edges"]),
            spec["n_buckets"],
            spec["max_tokens"],
        )
        model.user_id_map = {u: i + 1 for i, u in enumerate(meta["user_ids"])}
        model.item_id_map = {p: i + 1 for i, p in enumerate(meta["item_ids"])}
        model.history = meta.get("history", [])
        model.net = TwoTower(
            len(model.user_id_map),
            len(model.item_id_map),
            model.spec,
            config.dim,
            config.id_dropout,
            config.history_half_life_days,
        )
        model.net.load_state_dict(weights)
        model.net.to(model.device).eval()
        return model


def _history_positions(events: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(order_start, user_start) per event row: first row of its order, first row of its user."""
    n = events.height
    rows = np.arange(n, dtype=np.int64)
    user = events["user"].to_numpy()
    order = events["order"].to_numpy()
    new_user = np.r_[True, user[1:] != user[:-1]]
    new_order = np.r_[True, order[1:] != order[:-1]]
    user_start = np.maximum.accumulate(np.where(new_user, rows, 0))
    order_start = np.maximum.accumulate(np.where(new_order, rows, 0))
    return order_start, user_start
