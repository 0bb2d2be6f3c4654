"""The `auto` forecaster: per demand segment, the best single model or small equal-weight
ensemble on the validation (calibration) window, with conformal intervals of its own.

Candidates are every model run on all series and every equal-weight mean of 2 or 3 of them
(`MAX_MEMBERS`); each segment takes the candidate with the lowest WAPE on the window before the
cutoff (the same horizon as the forecast), ties going to the one with fewer members. Choosing on
that window adapts to each panel: a lumpy panel may keep the median model alone, a smooth one may
average the mean (tweedie) and median models with a seasonal baseline, which also evens out their
opposite biases. An ensemble's intervals are calibrated on its own validation residuals.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Protocol

import numpy as np

#: The most models averaged into one ensemble candidate.
MAX_MEMBERS = 3
#: Separator of member names in an ensemble's name, e.g. "lightgbm+lightgbm_median".
JOIN = "+"


class _Forecast(Protocol):
    rows: np.ndarray
    yhat: np.ndarray
    cal_yhat: np.ndarray
    model: np.ndarray


def wape(actual: np.ndarray, yhat: np.ndarray) -> float:
    """sum |y - yhat| / sum |y| (inf when the actuals are all zero)."""
    total = np.abs(actual).sum()
    return float(np.abs(actual - yhat).sum() / total) if total > 0 else float("inf")


def candidates(names: list[str], max_members: int = MAX_MEMBERS) -> list[tuple[str, ...]]:
    """Every single model and every combination of 2..max_members of them, singles first."""
    out: list[tuple[str, ...]] = []
    for r in range(1, min(max_members, len(names)) + 1):
        out.extend(itertools.combinations(names, r))
    return out


def ensemble_name(members: tuple[str, ...]) -> str:
    """The name of an ensemble (the model's own name for one member)."""
    return JOIN.join(members)


def members_of(name: str) -> tuple[str, ...]:
    """The member models of a candidate name."""
    return tuple(name.split(JOIN))


def choose(
    forecasts: Mapping[str, _Forecast],
    actual_cal: np.ndarray,
    seg_cal: np.ndarray,
    prophet_rows: np.ndarray,
    max_members: int = MAX_MEMBERS,
) -> dict[str, str]:
    """{segment: candidate name} with the lowest validation WAPE; "prophet_subset" for that subset.

    Args:
        forecasts: every model's forecast (a subset model such as Prophet has fewer rows).
        actual_cal: (n, h) actuals of the validation window; seg_cal: (n,) segments at its origin.
        prophet_rows: panel rows Prophet ran on (may be empty, or every row).
        max_members: the largest ensemble tried.

    Segments come from the validation origin, so the choice uses no data after the cutoff.
    """
    n = actual_cal.shape[0]
    full = sorted(k for k, v in forecasts.items() if v.rows.size == n)
    cands = candidates(full, max_members)
    choice: dict[str, str] = {}
    for s in np.unique(seg_cal):
        mask = seg_cal == s
        cal = {k: forecasts[k].cal_yhat[mask] for k in full}
        choice[str(s)] = _best(cands, cal, actual_cal[mask])
    if "prophet" in forecasts and 0 < prophet_rows.size < n:
        rows = prophet_rows
        others = [c for c in cands if "prophet" not in c]
        sub = {k: forecasts[k].cal_yhat[rows] for k in full}
        best = _best(others, sub, actual_cal[rows])
        best_w = wape(actual_cal[rows], _mean(members_of(best), sub))
        prophet = wape(actual_cal[rows], forecasts["prophet"].cal_yhat)
        choice["prophet_subset"] = "prophet" if prophet < best_w else best
    return choice


def _mean(members: tuple[str, ...], values: dict[str, np.ndarray]) -> np.ndarray:
    return np.mean([values[m] for m in members], axis=0)


def _best(cands: list[tuple[str, ...]], cal: dict[str, np.ndarray], actual: np.ndarray) -> str:
    scores = [(round(wape(actual, _mean(c, cal)), 6), len(c), ensemble_name(c)) for c in cands]
    return min(scores)[2]


def ensemble_arrays(
    forecasts: Mapping[str, _Forecast], name: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(yhat (n, h), cal_yhat (n, h), model used per series (n,)) of an equal-weight ensemble.

    The model label is the ensemble's name, or the members' labels joined where a member fell
    back for that series.
    """
    members = members_of(name)
    yhat = _mean(members, {m: forecasts[m].yhat for m in members})
    cal = _mean(members, {m: forecasts[m].cal_yhat for m in members})
    labels = np.array([forecasts[m].model for m in members], dtype=object)
    used = np.array([JOIN.join(col) for col in labels.T], dtype=object)
    return yhat, cal, used.astype(str)
