"""The two towers and the product features they read.

Item tower: id embedding + category + price band + hashed description tokens -> MLP -> L2 norm,
so a product never sold gets a vector from its attributes alone (its id index is 0 = unknown).
User tower: id embedding + recency-weighted mean of the item-tower vectors of the customer's
last purchases -> MLP (+ the pooled history as a residual) -> L2 norm, so a new customer (id 0)
or an ad-hoc basket still gets a vector.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

import numpy as np
import polars as pl
import torch
from torch import nn
from torch.nn import functional as F

_TOKEN_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class FeatureSpec:
    """How product attributes become indices (fitted on the training catalogue).

    Attributes:
        categories: known categories; index = position + 1 (0 = unknown).
        price_edges: ascending unit-price cut points; band = number of edges below + 1.
        n_buckets: hash buckets for description tokens (0 = padding).
        max_tokens: tokens kept per description.
    """

    categories: tuple[str, ...]
    price_edges: tuple[float, ...]
    n_buckets: int = 1 << 14
    max_tokens: int = 12

    @classmethod
    def fit(
        cls,
        products: pl.DataFrame,
        n_price_bands: int = 10,
        n_buckets: int = 1 << 14,
        max_tokens: int = 12,
    ) -> FeatureSpec:
        prices = products["unit_price"].drop_nulls().to_numpy()
        edges = (
            np.unique(np.quantile(prices, np.linspace(0, 1, n_price_bands + 1)[1:-1]))
            if prices.size
            else np.zeros(0)
        )
        categories = tuple(sorted(products["category"].drop_nulls().unique().to_list()))
        return cls(categories, tuple(float(e) for e in edges), n_buckets, max_tokens)

    @property
    def n_price_bands(self) -> int:
        return len(self.price_edges) + 1

    def token_ids(self, text: str) -> list[int]:
        tokens = _TOKEN_RE.findall((text or "").lower())[: self.max_tokens]
        return [zlib.crc32(t.encode()) % (self.n_buckets - 1) + 1 for t in tokens]

    def encode(self, products: pl.DataFrame, item_id_map: dict[str, int]) -> ItemFeatures:
        """Index arrays for `products` (rows in order); ids not in the map get 0 (unknown)."""
        cat_index = {c: i + 1 for i, c in enumerate(self.categories)}
        prices = products["unit_price"].to_numpy()
        bands = np.where(
            np.isnan(prices.astype(float)),
            0,
            np.searchsorted(np.asarray(self.price_edges), np.nan_to_num(prices)) + 1,
        )
        tokens = np.zeros((products.height, self.max_tokens), dtype=np.int64)
        for row, text in enumerate(products["description"].to_list()):
            ids = self.token_ids(text)
            tokens[row, : len(ids)] = ids
        return ItemFeatures(
            item=np.array(
                [item_id_map.get(p, 0) for p in products["product_id"].to_list()], dtype=np.int64
            ),
            category=np.array(
                [cat_index.get(c, 0) for c in products["category"].to_list()], dtype=np.int64
            ),
            price_band=bands.astype(np.int64),
            tokens=tokens,
        )


@dataclass(frozen=True)
class ItemFeatures:
    """Per-product indices, all [n_items] except tokens [n_items, max_tokens] (0 = padding)."""

    item: np.ndarray
    category: np.ndarray
    price_band: np.ndarray
    tokens: np.ndarray

    def tensors(self, device: torch.device) -> dict[str, torch.Tensor]:
        return {
            name: torch.as_tensor(getattr(self, name), device=device)
            for name in ("item", "category", "price_band", "tokens")
        }


class ItemTower(nn.Module):
    """Product features (each [n], tokens [n, T]) -> [n, dim] L2-normalised vectors."""

    def __init__(self, n_item_ids: int, spec: FeatureSpec, dim: int, id_dropout: float) -> None:
        super().__init__()
        self.id_dropout = id_dropout
        self.item_embedding = nn.Embedding(n_item_ids + 1, dim, padding_idx=0)
        self.category_embedding = nn.Embedding(len(spec.categories) + 1, dim)
        self.price_embedding = nn.Embedding(spec.n_price_bands + 1, dim)
        self.token_embedding = nn.EmbeddingBag(spec.n_buckets, dim, mode="mean", padding_idx=0)
        self.mlp = nn.Sequential(nn.Linear(4 * dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))
        nn.init.normal_(self.item_embedding.weight, std=0.05)
        with torch.no_grad():
            self.item_embedding.weight[0].zero_()

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        item = features["item"]
        if self.training and self.id_dropout > 0:
            keep = torch.rand(item.shape, device=item.device) >= self.id_dropout
            item = item * keep
        parts = [
            self.item_embedding(item),
            self.category_embedding(features["category"]),
            self.price_embedding(features["price_band"]),
            self.token_embedding(features["tokens"]),
        ]
        return F.normalize(self.mlp(torch.cat(parts, dim=-1)), dim=-1)


class UserTower(nn.Module):
    """(user ids [B], history item ids [B, L] (0 = padding), weights [B, L]) -> [B, dim].

    The history is pooled as a weighted mean of its own item embedding table (an EmbeddingBag),
    so a batch costs O(B x L x dim) whatever the catalogue size.
    """

    def __init__(self, n_user_ids: int, n_item_ids: int, dim: int) -> None:
        super().__init__()
        self.user_embedding = nn.Embedding(n_user_ids + 1, dim, padding_idx=0, sparse=True)
        nn.init.zeros_(self.user_embedding.weight)  # an unseen customer equals an unknown one
        self.history_embedding = nn.EmbeddingBag(n_item_ids + 1, dim, mode="sum", padding_idx=0)
        nn.init.normal_(self.history_embedding.weight, std=0.05)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))

    def forward(
        self, users: torch.Tensor, history: torch.Tensor, weights: torch.Tensor
    ) -> torch.Tensor:
        weights = weights / weights.sum(dim=1, keepdim=True).clamp_min(1e-6)
        pooled = self.history_embedding(history, per_sample_weights=weights)
        mixed = self.mlp(torch.cat([self.user_embedding(users), pooled], dim=-1))
        return F.normalize(mixed + pooled, dim=-1)


class TwoTower(nn.Module):
    """Both towers. History arrives as model item ids (0 = padding or unknown item)."""

    def __init__(
        self,
        n_user_ids: int,
        n_item_ids: int,
        spec: FeatureSpec,
        dim: int,
        id_dropout: float,
        history_half_life_days: float,
    ) -> None:
        super().__init__()
        self.items = ItemTower(n_item_ids, spec, dim, id_dropout)
        self.users = UserTower(n_user_ids, n_item_ids, dim)
        self.history_half_life_days = history_half_life_days

    def user_vectors(
        self, users: torch.Tensor, history: torch.Tensor, ages_days: torch.Tensor
    ) -> torch.Tensor:
        """[B, dim] from user ids [B], history item ids [B, L], ages [B, L] in days."""
        weights = torch.pow(0.5, ages_days / self.history_half_life_days) * (history > 0)
        return self.users(users, history, weights)

    def sparse_parameters(self) -> list[torch.Tensor]:
        """Parameters with sparse gradients (for SparseAdam): the table that grows with customers.

        Catalogue-sized tables stay dense: with a few thousand products a dense Adam step is
        cheaper than coalescing the sparse gradients of 50 history items x B examples.
        """
        return [self.users.user_embedding.weight]
