"""Batch lists (`service.bulk_recommendations`): the same ranking path as one customer's list.

Known customers go through `recsys.lists.rank_lists` in batches, after one ranking of just
them while every customer is not ranked yet and they are fewer than those left to rank
(`recsys.ranked.RankBuild`); customers without purchases get recent popularity under the same
rules, grouped by their out-of-stock mask.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import partial

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from recsys.errors import RecsysError
from recsys.lists import rank_lists
from recsys.serving import (
    BULK_COLUMNS,
    POPULAR_MODEL,
    BusinessRules,
    ServingState,
    model_name,
    pick_top,
    popular_scores,
    rules_mask,
)
from warehouse.db import reading, run_named
from warehouse.executors import Executor


def _customers(
    state: ServingState,
    db: str | os.PathLike[str] | None,
    customer_ids: Sequence[str] | None,
    segment: str | None,
) -> list[str]:
    if customer_ids is not None and segment is not None:
        raise RecsysError("give either customer ids or --segment, not both")
    if segment is not None:
        with reading(db) as con:
            found = run_named(con, "recsys/customers_in_segment", {"segment": segment})
        if found.is_empty():
            raise RecsysError(f"--segment: no customers in segment {segment!r}")
        return [str(c) for c in found["customer_id"].to_list()]
    if customer_ids is None:
        return list(state.data.user_ids)
    ids = [str(c) for c in customer_ids]
    with reading(db) as con:
        known = set(run_named(con, "recsys/customers")["customer_id"].to_list())
    unknown = [c for c in ids if c not in known]
    if unknown:
        raise RecsysError(
            f"customer ids not in this warehouse: {', '.join(unknown[:5])}"
            + (f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else "")
        )
    return ids


def bulk_frame(
    state: ServingState,
    db: str | os.PathLike[str] | None,
    customer_ids: Sequence[str] | None,
    segment: str | None,
    k: int,
    rules: BusinessRules,
    progress: bool = False,
    batch_size: int = 1024,
    executor: Executor | None = None,
) -> pl.DataFrame:
    """Top-k rows per customer (BULK_COLUMNS), ids as in the source; known customers are
    ranked by chunks of `batch_size`, on `executor` when given (in this process otherwise)."""
    if k < 1:
        raise RecsysError(f"--k: must be at least 1, got {k}")
    customers = _customers(state, db, customer_ids, segment)
    mask = rules_mask(state, rules)
    index = state.data.user_index
    known = [c for c in customers if c in index]
    cold = [c for c in customers if c not in index]
    parts: list[pl.DataFrame] = []
    item_ids = np.array(state.data.catalogue.item_ids, dtype=object)
    names = np.array(state.descriptions, dtype=object)
    bar = tqdm(total=len(customers), desc="export", unit="customer", disable=not progress)
    batches = [
        pl.Series("customer_id", known[lo : lo + batch_size], dtype=pl.String)
        for lo in range(0, len(known), batch_size)
    ]
    if executor is None or len(batches) <= 1:
        if known and state.rank_model is not None:  # these customers only, if fewer than
            users = np.array([index[c] for c in known], dtype=np.int64)  # those left to rank
            state.ranked_for(state.data, users)  # (kept for the chunks' lookups below)
        for batch in batches:
            parts.append(rank_batch(state, k, rules, batch))
            bar.update(batch.len())
    else:  # one copy of the state per run in the engine's object store, then customer chunks
        results: list[pl.DataFrame | None] = [None] * len(batches)
        for i, result in executor.map(partial(rank_batch, state, k, rules), batches, "export"):
            if isinstance(result, Exception):
                raise RecsysError(f"export: customer chunk {i} failed: {result}") from result
            results[i] = result
            bar.update(batches[i].len())
        parts.extend(r for r in results if r is not None)
    for group in _by_stock_mask(state, cold, rules):
        scores = np.where(mask & ~state.out_of_stock_for(group[0]), popular_scores(state), -np.inf)
        ids, vals = pick_top(scores, k, state.categories, rules.max_per_category)
        n = len(ids)
        parts.append(
            pl.DataFrame(
                {
                    "customer_id": np.repeat(np.array(group, dtype=object), n).tolist(),
                    "rank": np.tile(np.arange(1, n + 1, dtype=np.int32), len(group)),
                    "product_id": np.tile(item_ids[ids], len(group)).tolist(),
                    "description": np.tile(names[ids], len(group)).tolist(),
                    "score": np.tile(vals.astype(np.float64), len(group)),
                    "reason": ["no purchases yet: popular with customers now"] * (n * len(group)),
                    "model": [POPULAR_MODEL] * (n * len(group)),
                },
                schema_overrides={
                    "customer_id": pl.String,
                    "product_id": pl.String,
                    "description": pl.String,
                },
            )
        )
        bar.update(len(group))
    bar.close()
    if not parts:
        return pl.DataFrame(
            schema={
                "customer_id": pl.String,
                "rank": pl.Int32,
                "product_id": pl.String,
                "description": pl.String,
                "score": pl.Float64,
                "reason": pl.String,
                "model": pl.String,
            }
        )
    return pl.concat(parts).select(BULK_COLUMNS)


def rank_batch(
    state: ServingState, k: int, rules: BusinessRules, customers: pl.Series
) -> pl.DataFrame:
    """Top-k rows (BULK_COLUMNS order not applied) for one chunk of known customers."""
    chunk = customers.to_list()
    index = state.data.user_index
    item_ids = np.array(state.data.catalogue.item_ids, dtype=object)
    names = np.array(state.descriptions, dtype=object)
    base = rules_mask(state, BusinessRules(**{**rules.__dict__, "in_stock_only": False}))
    users = np.array([index[c] for c in chunk], dtype=np.int64)
    masks = (
        base[None, :] & ~np.stack([state.out_of_stock_for(c) for c in chunk])
        if rules.in_stock_only
        else base
    )
    rec, best, reasons, _ = rank_lists(state, state.data, users, k, rules, masks)
    keep = rec >= 0
    return pl.DataFrame(
        {
            "customer_id": np.repeat(np.array(chunk, dtype=object), k)[keep.ravel()].tolist(),
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), len(users))[keep.ravel()],
            "product_id": item_ids[rec[keep]].tolist(),
            "description": names[rec[keep]].tolist(),
            "score": best[keep].astype(np.float64),
            "reason": [r for row in reasons for r in row],
            "model": [model_name(state)] * int(keep.sum()),
        },
        schema_overrides={
            "customer_id": pl.String,
            "product_id": pl.String,
            "description": pl.String,
        },
    )


def _by_stock_mask(
    state: ServingState, customers: list[str], rules: BusinessRules
) -> list[list[str]]:
    """Customers grouped so that each group shares one out-of-stock mask."""
    if not customers:
        return []
    if not rules.in_stock_only:
        return [customers]
    groups: dict[str | None, list[str]] = {}
    for c in customers:
        store = state.home_store.get(c)
        key = store if store is None or store in state.out_of_stock else "(no stock data)"
        groups.setdefault(key, []).append(c)
    return list(groups.values())
