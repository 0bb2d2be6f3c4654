"""Customer segment builder: RFM, spend, country and category affinity (no streamlit).

`customer_profile` reads one row per customer (SQL `warehouse/sql/app/customer_profile.sql`);
a `SegmentRule` filters it; rules are saved per user as JSON next to the warehouse
(`models/<db>/segments/<user>.json`, written atomically).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from warehouse.db import WarehouseError, run_named
from warehouse.paths import artifacts_dir

_NAME = re.compile(r"^[\w .-]{1,60}$")


@dataclass(frozen=True)
class SegmentRule:
    """Which customers a segment holds (empty tuple / None = no condition).

    Attributes:
        rfm_min: minimum (recency, frequency, monetary) scores, each 1-5 (5 = best).
        min_spend, max_spend: lifetime spend bounds in GBP.
        countries: regions to keep.
        categories: keep customers whose top category (most spend) is one of these.
        min_affinity: the top category's minimum share of spend (0-1).
        segments: the warehouse's own segments to keep.
    """

    rfm_min: tuple[int, int, int] = (1, 1, 1)
    min_spend: float | None = None
    max_spend: float | None = None
    countries: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    min_affinity: float = 0.0
    segments: tuple[str, ...] = field(default=())

    def apply(self, profile: pl.DataFrame) -> pl.DataFrame:
        """Rows of `profile` (customer_profile columns) in the segment."""
        r, f, m = self.rfm_min
        cond = (pl.col("r_score") >= r) & (pl.col("f_score") >= f) & (pl.col("m_score") >= m)
        if self.min_spend is not None:
            cond &= pl.col("spend") >= self.min_spend
        if self.max_spend is not None:
            cond &= pl.col("spend") <= self.max_spend
        if self.countries:
            cond &= pl.col("country").is_in(list(self.countries))
        if self.categories:
            cond &= pl.col("top_category").is_in(list(self.categories))
        if self.min_affinity > 0:
            cond &= pl.col("top_category_share") >= self.min_affinity
        if self.segments:
            cond &= pl.col("segment").is_in(list(self.segments))
        return profile.filter(cond)


def customer_profile(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """customer_id, country, segment, orders, spend (GBP), last_purchase, recency_days,
    top_category, top_category_share, r_score, f_score, m_score (1-5), rfm ('555' = best)."""
    return run_named(con, "app/customer_profile")


def _store(db: str | os.PathLike[str] | None, user: str) -> Path:
    if not _NAME.match(user):
        raise WarehouseError(f"user name {user!r}: letters, digits, space, '.', '-' only")
    return artifacts_dir(db, "segments") / f"{user}.json"


def saved_segments(db: str | os.PathLike[str] | None, user: str) -> dict[str, SegmentRule]:
    """The user's saved segments by name ({} when none)."""
    path = _store(db, user)
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for name, rule in raw.items():
        rule = {k: tuple(v) if isinstance(v, list) else v for k, v in rule.items()}
        out[name] = SegmentRule(**rule)
    return out


def save_segment(
    db: str | os.PathLike[str] | None, user: str, name: str, rule: SegmentRule
) -> Path:
    """Save (or replace) segment `name` for `user`; returns the JSON file (atomic write)."""
    if not _NAME.match(name):
        raise WarehouseError(f"segment name {name!r}: 1-60 letters, digits, space, '.', '-'")
    path = _store(db, user)
    segments = saved_segments(db, user)
    segments[name] = rule
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(
        json.dumps({k: asdict(v) for k, v in segments.items()}, indent=1), encoding="utf-8"
    )
    os.replace(tmp, path)
    return path
