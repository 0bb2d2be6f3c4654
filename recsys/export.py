"""Batch lists for merchandisers: a file (csv, xlsx, parquet) and the `recommendations` table."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl
from tqdm.auto import tqdm

from recsys.base import Filters, apply_filters, top_k
from recsys.errors import RecsysError
from recsys.service import (
    BULK_COLUMNS,
    POPULAR_MODEL,
    BusinessRules,
    ServingState,
    _pick,
    _popular_scores,
    rules_mask,
)
from warehouse.db import reading, run_named, writing
from warehouse.files import write_frame_atomic

FORMATS = (".csv", ".xlsx", ".parquet")
TABLE = "recommendations"


def read_customer_file(path: str | os.PathLike[str]) -> list[str]:
    """Customer ids from a file: one per line, or a CSV with a `customer_id` column."""
    file = Path(path)
    if not file.exists():
        raise RecsysError(f"{file}: customers file not found")
    lines = [line.strip() for line in file.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise RecsysError(f"{file}: no customer ids")
    header = [c.strip().strip('"') for c in lines[0].split(",")]
    if "customer_id" in header:
        frame = pl.read_csv(file, infer_schema=False)
        return [c for c in frame["customer_id"].to_list() if c]
    return [line.strip('"') for line in lines]


def _customers(state: ServingState, db: str | os.PathLike[str] | None,
               customer_ids: Sequence[str] | None, segment: str | None) -> list[str]:
    if customer_ids is not None and segment is not None:
        raise RecsysError("give either customer ids or --segment, not both")
    if segment is not None:
        with reading(db) as con:
            ids = run_named(con, "recsys/customers_in_segment", {"segment": segment})
        if ids.is_empty():
            raise RecsysError(f"--segment: no customers in segment {segment!r}")
        return ids["customer_id"].to_list()
    if customer_ids is None:
        return list(state.data.user_ids)
    ids = [str(c) for c in customer_ids]
    with reading(db) as con:
        known = set(run_named(con, "recsys/customers")["customer_id"].to_list())
    unknown = [c for c in ids if c not in known]
    if unknown:
        raise RecsysError(f"customer ids not in this warehouse: {', '.join(unknown[:5])}"
                          + (f" (+{len(unknown) - 5} more)" if len(unknown) > 5 else ""))
    return ids


def _batch_reasons(state: ServingState, users: np.ndarray, rec: np.ndarray) -> list[str]:
    """Reasons for [n, k] recommended items of `users` (vectorised over the batch)."""
    hist, ages = state.loaded.model.user_history(state.data)
    hist, ages = hist[users], ages[users]
    valid = hist >= 0
    weight = (0.5 ** (ages / 60.0)) * valid
    vectors = state.item_vectors
    rec_safe = np.maximum(rec, 0)
    sims = np.einsum("nkd,nld->nkl", vectors[rec_safe], vectors[np.maximum(hist, 0)])
    sims = np.where(valid[:, None, :], sims * weight[:, None, :], -np.inf)
    best2 = np.argsort(-sims, axis=2)[:, :, :2]
    counts = state.data.counts()[users]
    n, k = rec.shape
    bought = np.asarray(counts[np.repeat(np.arange(n), k), rec_safe.ravel()]).reshape(n, k)
    names = state.descriptions
    out: list[str] = []
    for i in range(n):
        has_history = bool(valid[i].any())
        for j in range(k):
            if rec[i, j] < 0:
                continue
            if bought[i, j] > 0:
                out.append(f"you bought it {int(bought[i, j])}x before")
            elif not has_history:
                out.append("popular with customers now")
            else:
                first = names[hist[i, best2[i, j, 0]]]
                second = names[hist[i, best2[i, j, 1]]] if valid[i].sum() > 1 else first
                out.append("like " + (first if second == first else f"{first}; {second}"))
    return out


def bulk_frame(state: ServingState, db: str | os.PathLike[str] | None,
               customer_ids: Sequence[str] | None, segment: str | None, k: int,
               rules: BusinessRules, progress: bool = False,
               batch_size: int = 1024) -> pl.DataFrame:
    """Top-k rows per customer (BULK_COLUMNS), ids as in the source."""
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
    for start in range(0, len(known), batch_size):
        chunk = known[start:start + batch_size]
        users = np.array([index[c] for c in chunk], dtype=np.int64)
        scores = apply_filters(state.ranker.score(state.data, users), state.data, users,
                               Filters(exclude_seen=rules.exclude_purchased, item_mask=mask))
        if rules.in_stock_only:
            scores[np.stack([state.out_of_stock_for(c) for c in chunk])] = -np.inf
        if rules.max_per_category is None:
            rec, best = top_k(scores, k)
        else:
            rec = np.full((len(users), k), -1, np.int64)
            best = np.full((len(users), k), -np.inf, np.float32)
            for row in range(len(users)):
                ids, vals = _pick(scores[row], k, state.categories, rules.max_per_category)
                rec[row, : len(ids)], best[row, : len(ids)] = ids, vals
        keep = rec >= 0
        reasons = _batch_reasons(state, users, rec)
        parts.append(pl.DataFrame({
            "customer_id": np.repeat(np.array(chunk, dtype=object), k)[keep.ravel()].tolist(),
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int32), len(users))[keep.ravel()],
            "product_id": item_ids[rec[keep]].tolist(),
            "description": names[rec[keep]].tolist(),
            "score": best[keep].astype(np.float64),
            "reason": reasons,
            "model": [state.ranker.name] * int(keep.sum()),
        }, schema_overrides={"customer_id": pl.String, "product_id": pl.String,
                             "description": pl.String}))
        bar.update(len(chunk))
    for group in _by_stock_mask(state, cold, rules):
        scores = np.where(mask & ~state.out_of_stock_for(group[0]), _popular_scores(state),
                          -np.inf)
        ids, vals = _pick(scores, k, state.categories, rules.max_per_category)
        n = len(ids)
        parts.append(pl.DataFrame({
            "customer_id": np.repeat(np.array(group, dtype=object), n).tolist(),
            "rank": np.tile(np.arange(1, n + 1, dtype=np.int32), len(group)),
            "product_id": np.tile(item_ids[ids], len(group)).tolist(),
            "description": np.tile(names[ids], len(group)).tolist(),
            "score": np.tile(vals.astype(np.float64), len(group)),
            "reason": ["no purchases yet: popular with customers now"] * (n * len(group)),
            "model": [POPULAR_MODEL] * (n * len(group)),
        }, schema_overrides={"customer_id": pl.String, "product_id": pl.String,
                             "description": pl.String}))
        bar.update(len(group))
    bar.close()
    if not parts:
        return pl.DataFrame(schema={"customer_id": pl.String, "rank": pl.Int32,
                                    "product_id": pl.String, "description": pl.String,
                                    "score": pl.Float64, "reason": pl.String,
                                    "model": pl.String})
    return pl.concat(parts).select(BULK_COLUMNS)


def _by_stock_mask(state: ServingState, customers: list[str],
                   rules: BusinessRules) -> list[list[str]]:
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


def write_file(
    frame: pl.DataFrame, out: str | os.PathLike[str], *, raw_csv: bool = False
) -> Path:
    """Write .csv, .xlsx or .parquet atomically (temp file + rename); CSV neutralised unless raw."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise RecsysError(f"--out {path}: unsupported format {suffix or '(none)'}; "
                          f"use one of {', '.join(FORMATS)}")
    if suffix == ".xlsx" and frame.height > 1_048_575:
        raise RecsysError(f"--out {path}: {frame.height:,} rows exceed an Excel sheet; "
                          "use .csv or .parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_frame_atomic(frame, path, sheet="recommendations", raw_csv=raw_csv)
    return path


def write_table(db: str | os.PathLike[str] | None, frame: pl.DataFrame) -> int:
    """Replace the `recommendations` table in one atomic write; returns the row count."""
    with writing(db) as con:
        con.register("recommendations_frame", frame.to_arrow())
        try:
            con.execute(_table_sql()).fetchall()
        finally:
            con.unregister("recommendations_frame")
    return frame.height


def _table_sql() -> str:
    from warehouse.db import sql_text

    return sql_text("recsys/write_recommendations")
