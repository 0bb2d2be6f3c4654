"""Demand segments and conformal prediction intervals from backtest residuals.

Conformal recipe (split conformal, normalised): a model is fitted on history through
`end - h` and forecasts the last `h` known periods; the residuals `(y - yhat) / s` (s =
`residual_scale`: the recent level x the forecast level) are pooled per scale group x
horizon bucket, and their empirical quantiles turn a later forecast into quantiles
`max(0, yhat + Q_r(p) * s)`. Pooling across series is what makes them stable; the calibration
window is the same length as the forecast.

The forecast level in the scale is the **mean model's** (the tweedie LightGBM, where it ran)
rather than the chosen model's own (issue #13, BENCHMARKS.md "third session"): demand spreads in
proportion to its expected level, and a median model forecasts near zero for lumpy series and
lags growth, so its own level under-states the spread of the weeks ahead. Each horizon bucket's
quantiles are read from its residuals pooled with the same residuals moved to the window's
median (`recentred_quantiles`, BENCHMARKS.md "fourth session"): a bucket's own bias in one
window need not repeat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecasting.data import YEAR, Panel
from forecasting.schemas import QUANTILES, SEGMENTS

MIN_GROUP_POINTS = 300
#: Fewer calibration residuals than this (all series and horizons together): model-based intervals.
MIN_POOLED_POINTS = 100
#: A horizon bucket with fewer residuals than this uses the residuals pooled over all horizons.
MIN_BUCKET_POINTS = 50
#: What `ConformalTable.fit`'s method says of `recentred_quantiles`.
BUCKETS_AT_MEDIAN = ", buckets also at the window's median"


def segments(panel: Panel, end: int) -> np.ndarray:
    """(n,) 'smooth' | 'intermittent' | 'lumpy' | 'erratic' (Syntetos-Boylan ADI / CV^2 rule).

    Computed on the last year of history through `end` (since each series started):
    ADI = periods per non-zero period (cut 1.32), CV^2 of the non-zero sizes (cut 0.49).
    """
    lo = max(0, end + 1 - YEAR[panel.freq])
    y = panel.y[:, lo : end + 1].astype(np.float64)
    alive = np.arange(lo, end + 1)[None, :] >= panel.start[:, None]
    nz = (y > 0) & alive
    n_nz = nz.sum(1)
    adi = np.divide(alive.sum(1), n_nz, out=np.full(panel.n, np.inf), where=n_nz > 0)
    mean = np.divide((y * nz).sum(1), n_nz, out=np.zeros(panel.n), where=n_nz > 0)
    var = np.divide(
        ((y - mean[:, None]) ** 2 * nz).sum(1), n_nz, out=np.zeros(panel.n), where=n_nz > 0
    )
    cv2 = np.divide(var, mean**2, out=np.zeros(panel.n), where=mean > 0)
    frequent = adi < 1.32
    steady = cv2 < 0.49
    return np.select(
        [frequent & steady, frequent, steady],
        list(SEGMENTS[:1] + ("erratic", "intermittent")),
        default="lumpy",
    ).astype("<U12")


def level(panel: Panel, end: int) -> np.ndarray:
    """(n,) residual scale: mean of the last 13 weeks through `end`, floored at 0.05."""
    w = 91 if panel.freq == "D" else 13
    lo = np.maximum(end + 1 - w, panel.start)
    lo = np.minimum(lo, end + 1)
    total = np.array(
        [np.abs(panel.y[i, lo[i] : end + 1]).sum() for i in range(panel.n)], dtype=np.float64
    )  # |y|: a scale also for net sales with returns
    return np.maximum(total / np.maximum(end + 1 - lo, 1), 0.05)


def residual_scale(level_: np.ndarray, yhat: np.ndarray) -> np.ndarray:
    """(n,) divisor of the residuals: the geometric mean of the recent level (n,) and the
    forecast level, the mean |yhat| over the horizon (n, h) of the forecast given (`conformal`
    passes the mean model's where it ran), floored at 0.05.

    The forecast's part lets the intervals follow a season the model foresees (a level read in
    the high season no longer widens the low season's intervals); the level's part keeps them
    open where a median forecast is zero.
    """
    ahead = np.maximum(np.nan_to_num(np.abs(yhat)).mean(1), 0.05)
    return np.sqrt(np.maximum(level_, 0.05) * ahead)


def scale_groups(
    scale_cal: np.ndarray, scale_now: np.ndarray, k: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Labels ((n,), (m,)) of `k` groups by residual scale: quintiles of the calibration scales,
    the later series placed with the same edges.

    Residuals normalised by a scale still spread differently for slow and fast sellers (a
    series with almost no recent sales can jump to dozens of times its scale); pooling them per
    scale group keeps one group's tail out of the others' intervals.
    """
    edges = np.quantile(scale_cal, np.linspace(0, 1, k + 1)[1:-1]) if scale_cal.size else []
    label = np.char.add("scale q", (np.searchsorted(edges, scale_cal) + 1).astype(str))
    later = np.char.add("scale q", (np.searchsorted(edges, scale_now) + 1).astype(str))
    return label, later


def recentred_quantiles(vals: np.ndarray, centre: float, probs: list[float]) -> np.ndarray:
    """(len(probs),) quantiles of a horizon bucket's residuals `vals` (any shape) pooled with
    the same residuals moved to the window's median `centre` (vals - median(vals) + centre).

    A bucket's own median is one window's bias at that distance ahead (a few hundred series'
    shared errors: a season turning inside the window, a level the model lags); it need not
    repeat in the weeks ahead. Pooling both copies keeps each bucket's spread and shape and
    widens it by half the gap between its bias and the window's (issue #13, BENCHMARKS.md
    "fourth session").
    """
    flat = np.ravel(vals)
    return np.quantile(np.concatenate([flat, flat - np.median(flat) + centre]), probs)


def horizon_buckets(h: int, freq: str) -> np.ndarray:
    """(h,) bucket id of each horizon step (finer near the origin)."""
    edges = [7, 14, 28, 56] if freq == "D" else [1, 2, 4, 8]
    return np.searchsorted(np.array(edges), np.arange(1, h + 1), side="left")


def probabilities(levels: tuple[int, ...]) -> list[float]:
    """Every quantile level needed: the stored q_05..q_95 and each interval's two ends."""
    probs = set(QUANTILES)
    for lv in levels:
        if not 0 < lv < 100:
            raise ValueError(f"level {lv}: expected a percentage between 0 and 100")
        probs.add(round((1 - lv / 100) / 2, 6))
        probs.add(round(1 - (1 - lv / 100) / 2, 6))
    return sorted(probs)


@dataclass(frozen=True)
class ConformalTable:
    """Residual quantiles per (segment, horizon bucket); `probs` sorted ascending.

    Attributes:
        probs: quantile levels.
        table: {(segment or "*", bucket): (len(probs),) normalised residual quantiles}.
        method: how the table was made (for the run log and `forecast_runs.calibration`).
        floor: lowest allowed quantile (0 for demand; -inf for series with returns).
    """

    probs: tuple[float, ...]
    table: dict[tuple[str, int], np.ndarray]
    method: str = "conformal"
    floor: float = 0.0

    @classmethod
    def fit(
        cls,
        actual: np.ndarray,
        yhat: np.ndarray,
        scale: np.ndarray,
        segment: np.ndarray,
        buckets: np.ndarray,
        probs: list[float],
        grouping: str = "segment",
        windows: int = 1,
        scale_note: str = "",
    ) -> ConformalTable:
        """From calibration actuals and forecasts, both (n, h); scale and segment (n,) (any
        grouping of the series, named by `grouping` in the method). With `windows` > 1 the rows
        are series x validation windows stacked (the method says how many).

        Pools adaptively: per group x horizon bucket where a group has `MIN_GROUP_POINTS`
        residuals, else across segments, and across all horizons for a bucket with under
        `MIN_BUCKET_POINTS`. Each bucket's quantiles are `recentred_quantiles` at the median of
        its group's (or, pooled, the whole) window. `method` says which pooling was used (and
        `scale_note`, how the scale was read).
        """
        ok = np.isfinite(yhat).all(1)
        resid = (actual[ok] - yhat[ok]) / scale[ok, None]
        seg = segment[ok]
        table: dict[tuple[str, int], np.ndarray] = {}
        if resid.size == 0:
            resid = np.zeros((1, actual.shape[1]))
            seg = np.array(["*"])
        table[("*", -1)] = np.quantile(resid, probs)
        window_centre = float(np.median(resid))
        centre = {str(s): float(np.median(resid[seg == s])) for s in np.unique(seg)}
        by_segment = pooled_h = False
        for b in np.unique(buckets):
            cols = resid[:, buckets == b]
            if cols.size < MIN_BUCKET_POINTS:
                pooled_h = True
                continue  # `apply` falls back to ("*", -1)
            table[("*", int(b))] = recentred_quantiles(cols, window_centre, probs)
            for s in np.unique(seg):
                vals = cols[seg == s]
                if vals.size >= MIN_GROUP_POINTS:
                    table[(str(s), int(b))] = recentred_quantiles(vals, centre[str(s)], probs)
                    by_segment = True
        how = (
            f"by {grouping} x horizon"
            if by_segment
            else "pooled across series and horizons"
            if pooled_h
            else "pooled across series, by horizon"
        )
        wins = f"{windows} windows" if windows > 1 else "1 window"
        method = (
            f"conformal, {wins} of {actual.shape[1]}, {resid.size:,} residuals, {how}"
            f"{BUCKETS_AT_MEDIAN if len(table) > 1 else ''}{scale_note}"
        )
        return cls(tuple(probs), table, method)

    @classmethod
    def model_based(cls, panel: Panel, end: int, probs: list[float]) -> ConformalTable:
        """Last resort when calibration has too few residuals: the empirical quantiles of the
        in-sample one-step errors of a 4-period moving average, normalised like the residuals
        (through `end`, every series pooled), used for every horizon."""
        y = panel.y[:, : end + 1].astype(np.float64)
        n, t = y.shape
        w = 4
        if t <= w:
            errs = np.zeros(1)
        else:
            cum = np.hstack([np.zeros((n, 1)), np.cumsum(y, axis=1)])
            ma = (cum[:, w:t] - cum[:, : t - w]) / w  # mean of y[j-w..j-1] for j = w..t-1
            err = (y[:, w:] - ma) / level(panel, end)[:, None]
            alive = np.arange(w, t)[None, :] >= panel.start[:, None] + w
            errs = err[alive] if alive.any() else np.zeros(1)
        table = {("*", -1): np.quantile(errs, probs)}
        return cls(
            tuple(probs),
            table,
            f"model-based (in-sample moving-average errors, {errs.size:,} points)",
        )

    def with_floor(self, floor: float) -> ConformalTable:
        """The same table with another quantile floor."""
        return ConformalTable(self.probs, self.table, self.method, floor)

    def apply(
        self, yhat: np.ndarray, scale: np.ndarray, segment: np.ndarray, buckets: np.ndarray
    ) -> dict[float, np.ndarray]:
        """{p: (n, h) quantile forecasts}, at least `floor` and non-decreasing in p."""
        n, h = yhat.shape
        q = np.empty((len(self.probs), n, h))
        names, code = np.unique(segment, return_inverse=True)
        for j, b in enumerate(buckets):
            fallback = self.table.get(("*", int(b)), self.table[("*", -1)])
            lookup = np.stack([self.table.get((str(s), int(b)), fallback) for s in names])
            q[:, :, j] = yhat[None, :, j] + lookup[code].T * scale[None, :]
        q = np.maximum(np.maximum.accumulate(q, axis=0), self.floor)
        return {p: q[i] for i, p in enumerate(self.probs)}


def interval(
    quantiles: dict[float, np.ndarray], yhat: np.ndarray, level_pct: int
) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) of a central interval, widened if needed so that lo <= yhat <= hi."""
    lo_p = round((1 - level_pct / 100) / 2, 6)
    hi_p = round(1 - lo_p, 6)
    return np.minimum(quantiles[lo_p], yhat), np.maximum(quantiles[hi_p], yhat)


def conformal(
    panel: Panel,
    end: int,
    actual_cal: np.ndarray,
    cal: np.ndarray,
    fut: np.ndarray,
    level_cal: np.ndarray,
    level_now: np.ndarray,
    buckets: np.ndarray,
    probs: list[float],
    windows: int = 1,
    mean_cal: np.ndarray | None = None,
    mean_fut: np.ndarray | None = None,
) -> tuple[dict[float, np.ndarray], str]:
    """Quantiles {p: (n, h)} of the forecast `fut` from the validation residuals of `cal`, and
    the method used.

    `actual_cal`, `cal` (w x n, h) and `level_cal` (w x n,) stack the `windows` validation
    windows (each normalised by the level at its own origin). Residuals are divided by
    `residual_scale` (recent level x the forecast level) and pooled per scale group
    (`scale_groups`: quintiles of that scale) x horizon bucket. The forecast level is the mean
    model's (`mean_cal`, `mean_fut`, same shapes as `cal`, `fut`) on the rows where it is
    finite, else the model's own.
    """
    ref_cal, note_cal = _mean_level(cal, mean_cal)
    ref_fut, _ = _mean_level(fut, mean_fut)
    s_cal, s_now = residual_scale(level_cal, ref_cal), residual_scale(level_now, ref_fut)
    g_cal, g_now = scale_groups(s_cal, s_now)
    note = ", scale from the mean model's level" if note_cal else ""
    table = calibrate(panel, end, actual_cal, cal, s_cal, g_cal, buckets, probs, windows, note)
    return table.apply(fut, s_now, g_now, buckets), table.method


def _mean_level(own: np.ndarray, mean: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """(rows of `mean` where finite, else of `own`; whether any came from `mean`)."""
    if mean is None:
        return own, False
    ok = np.isfinite(mean).all(1)
    return np.where(ok[:, None], mean, own), bool(ok.any())


def mean_forecasts(
    run: tuple[np.ndarray, np.ndarray, np.ndarray, float] | None, n: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The mean model's validation (w x n, h) and cutoff (n, h) forecasts from its engine run
    (rows, cal, fut, seconds), NaN where it failed, for `conformal`'s scale; (None, None) when
    it did not run on all `n` series."""
    if run is None or run[0].size != n:
        return None, None
    _, cal, fut, _ = run
    bad = np.tile(~np.isfinite(fut).all(1), cal.shape[0] // n)
    return np.where(bad[:, None], np.nan, cal), fut


def calibrate(
    panel: Panel,
    end: int,
    actual: np.ndarray,
    cal: np.ndarray,
    scale: np.ndarray,
    segment: np.ndarray,
    buckets: np.ndarray,
    probs: list[float],
    windows: int = 1,
    scale_note: str = "",
) -> ConformalTable:
    """Conformal table from the validation windows (pooled as far as needed), or model-based
    intervals when they hold under `MIN_POOLED_POINTS` residuals."""
    if np.isfinite(cal).all(1).sum() * cal.shape[1] < MIN_POOLED_POINTS:
        table = ConformalTable.model_based(panel, end, probs)
    else:
        table = ConformalTable.fit(
            actual, cal, scale, segment, buckets, probs, "scale group", windows, scale_note
        )
    return table.with_floor(panel.floor)
