"""A longer bootstrap history for weekly panels: each week relative to its neighbours' level.

A weekly panel reaches the planner as weeks spread evenly over their days, so the 56-day window
holds only eight independent values, and a bootstrap's tail stops at the largest of them: on a
panel with heavy week-to-week noise the plans fall 3-4.5 points short of a 95% target. A plain
half-year window holds more weeks but also the season's swing, which costs a clean panel 7-8%
more stock (docs/BENCHMARKS.md, "a half-year window for weekly panels").

Here the bootstrap reads `shape_days` (default 24 weeks) where each week is divided by the mean
of its neighbours (up to `NEIGHBOURS` complete weeks either side, itself left out) and
multiplied by the recent level (the mean of the last `window_days` of complete weeks): the
swing of the season and trend is taken out, the week-to-week noise is kept three times over.
A noisy pair gets a tail from 24 weeks; a smooth pair's weeks stay close to 1 x its level, so
its stock barely moves. The scaling is per pair and adapts at every re-plan.

Pairs without the whole span of complete weeks (a first sale inside it, or a week whose
neighbours sold nothing: intermittent items) keep their window, repeated to the same length
(the circular block bootstrap then draws exactly as from the window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEEK = 7
#: Complete weeks either side whose mean is a week's local level.
NEIGHBOURS = 4


def week_phase(history: np.ndarray) -> int:
    """The column phase (0..6) at which the spread weeks start: where day-to-day values change.

    A weekly panel spread over its days is constant inside each week, so every change falls on
    a week's first day; the weekday the weeks end on is read from the data, not assumed.
    """
    if history.shape[1] < 2:
        return 0
    changes = (history[:, 1:] != history[:, :-1]).sum(axis=0)  # entering columns 1..days-1
    counts = np.bincount(np.arange(1, history.shape[1]) % WEEK, weights=changes, minlength=WEEK)
    return int(np.argmax(counts))


def whole_weeks_end(history: np.ndarray) -> int:
    """Columns of `history` through its last whole week: a trailing week cut by the plan date
    (not ended yet, so read as zeros) is left out; at least `days - 6`."""
    phase = week_phase(history)
    return phase + WEEK * ((history.shape[1] - phase) // WEEK)


@dataclass(frozen=True)
class WeeklyShape:
    """The weekly panel's bootstrap history and what it knows of the level.

    Attributes:
        history: `[n_pairs, shape_days]` daily units: weeks relative to their neighbours at the
            recent level (rows `rows`), else the window repeated.
        rows: which rows were rescaled week by week, `[n_pairs]` bool.
        level_sd: relative standard error of the recent level, `[n_pairs]`: the sd of the
            rows' relative weeks / sqrt(weeks in the window) (0 for the other rows).
    """

    history: np.ndarray
    rows: np.ndarray
    level_sd: np.ndarray


def weekly_shape(
    history: np.ndarray, first_day: np.ndarray, window_days: int, shape_days: int
) -> WeeklyShape:
    """The bootstrap history of weekly-panel pairs (see `WeeklyShape`).

    Args:
        history: daily units `[n_pairs, days]` ending the day before the plan (weeks spread
            evenly over their days, the weeks' first days found by `week_phase`; a week not
            ended by the plan, read as zeros, is left out); days >= shape_days + 6 for use.
        first_day: index of each pair's first sale in `history` (days before it are no data).
        window_days: the recent window whose mean is the level (a multiple of 7 reads whole
            weeks).
        shape_days: length of the result; a multiple of 7 (whole weeks).
    """
    n, days = history.shape
    closed = history[:, : whole_weeks_end(history)]
    window = closed[:, -window_days:] if closed.shape[1] >= window_days else closed
    level = window.mean(axis=1) if window.shape[1] else np.zeros(n)
    if window.shape[1]:  # row by row, cyclically
        repeated = np.tile(window, (1, -(-shape_days // window.shape[1])))[:, :shape_days]
    else:
        repeated = np.zeros((n, shape_days))
    n_weeks = shape_days // WEEK
    span = n_weeks * WEEK
    if closed.shape[1] < span or n_weeks < 2:
        return WeeklyShape(repeated, np.zeros(n, dtype=bool), np.zeros(n))
    weeks = closed[:, -span:].reshape(n, n_weeks, WEEK).sum(axis=2)  # [n, n_weeks]
    width = 2 * NEIGHBOURS + 1
    padded = np.pad(weeks, ((0, 0), (NEIGHBOURS, NEIGHBOURS)))
    cum = np.concatenate([np.zeros((n, 1)), np.cumsum(padded, axis=1)], axis=1)
    sums = cum[:, width:] - cum[:, :-width] - weeks  # neighbours' total, itself left out
    inside = np.pad(np.ones(n_weeks), NEIGHBOURS)
    cum_in = np.concatenate([[0.0], np.cumsum(inside)])
    counts = cum_in[width:] - cum_in[:-width] - 1.0  # neighbours inside the span, [n_weeks]
    local = sums / counts
    starts_inside = first_day > closed.shape[1] - span
    usable = ~starts_inside & np.all(local > 0, axis=1) & (level > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(usable[:, None], weeks / np.where(local > 0, local, 1.0), 0.0)
    shape = np.repeat(relative, WEEK, axis=1) * level[:, None]
    mean = shape.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shape = shape * np.where(mean > 0, level / mean, 0.0)[:, None]  # the window's level
    level_sd = np.where(usable, relative.std(axis=1, ddof=1) / np.sqrt(window.shape[1] / WEEK), 0.0)
    return WeeklyShape(np.where(usable[:, None], shape, repeated), usable, level_sd)
