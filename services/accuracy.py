"""Backtest accuracy as the Forecasts page compares it: only models scored on the same series.

A model fitted on a sample (Prophet on 10 series) is never ranked against models scored on every
series; it is listed apart with its own series count.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class Comparison:
    """Backtest rows of one segment x frequency, split by the series they were scored on."""

    ranked: pl.DataFrame  # the models scored on the shared series, best (lowest) WAPE first
    others: pl.DataFrame  # models scored on other series: shown apart, not ranked
    n_series: int | None  # how many series the ranked models share (None: no rows)


def segments_and_default(backtest: pl.DataFrame) -> tuple[list[str], int]:
    """The backtest's segments (sorted) and the index of 'all' among them (0 without it)."""
    segments = backtest["segment"].unique().sort().to_list()
    return segments, segments.index("all") if "all" in segments else 0


def frequencies(backtest: pl.DataFrame, segment: str) -> list[str]:
    """The frequencies scored for `segment`, sorted."""
    return backtest.filter(pl.col("segment") == segment)["frequency"].unique().sort().to_list()


def compare_models(backtest: pl.DataFrame, segment: str, frequency: str) -> Comparison:
    """Rank the models of `segment` x `frequency` on the series set most of them share.

    `backtest` has the columns of `forecasting.api.backtest_summary` (model, segment, frequency,
    wape, mase, bias, coverage_80, n_series).
    """
    part = backtest.filter((pl.col("segment") == segment) & (pl.col("frequency") == frequency))
    sizes = part.group_by("n_series").len().sort(["len", "n_series"], descending=True)
    same = sizes["n_series"][0] if sizes.height else None
    ranked = part.filter(pl.col("n_series") == same).sort("wape")
    return Comparison(ranked, part.filter(pl.col("n_series") != same), same)
