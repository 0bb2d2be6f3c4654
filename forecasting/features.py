"""Features of the LightGBM global model, computed only from history at or before each origin.

A training or prediction row is a triple (series i, origin o, horizon k): the target is
`y[i, o + k]` and every sales feature reads `y[i, :o + 1]` only (the leakage test in
tests/test_forecasting_features.py changes the future and checks that no feature moves).
Known-ahead inputs are the calendar and planned promotions of the target period.

Level features are divided by the series scale `s` (mean of the last 13 weeks at the origin),
so one model serves slow and fast sellers; the model predicts `y / s`.
"""

from __future__ import annotations

import numpy as np

from forecasting.data import YEAR, Panel

FEATURE_NAMES: tuple[str, ...] = (
    "horizon",
    "log_scale",
    "mean_short",
    "mean_month",
    "mean_year",
    "std_month",
    "nonzero_month",
    "nonzero_quarter",
    "last_value",
    "periods_since_sale",
    "age",
    "same_phase_4",
    "same_phase_12",
    "last_year",
    "last_year_window",
    "day_of_week",
    "day_of_month",
    "month",
    "week_of_year",
    "is_holiday",
    "promo_discount",
    "promo_recent",
    "store",
    "category",
    "lag_2",
    "lag_3",
    "lag_4",
    "mean_prev_month",
    "mean_half_year",
    "trend",
    "holidays_near",
    "promo_change",
)
CATEGORICAL: tuple[str, ...] = ("store", "category")

#: Readable drivers (for the app) grouping the features.
DRIVER_GROUPS: dict[str, tuple[str, ...]] = {
    "recent sales": (
        "mean_short",
        "last_value",
        "mean_month",
        "std_month",
        "log_scale",
        "lag_2",
        "lag_3",
        "lag_4",
        "mean_prev_month",
        "mean_half_year",
        "trend",
    ),
    "same weekday / season": ("same_phase_4", "same_phase_12", "day_of_week"),
    "last year": ("last_year", "last_year_window", "mean_year"),
    "how often it sells": ("nonzero_month", "nonzero_quarter", "periods_since_sale", "age"),
    "calendar": ("day_of_month", "month", "week_of_year", "is_holiday", "horizon", "holidays_near"),
    "promotion": ("promo_discount", "promo_recent", "promo_change"),
    "store and category": ("store", "category"),
}


class PanelStats:
    """Cumulative sums over a panel, so window statistics at any origin cost O(1).

    Shapes: `cum*` are (n, T + 1) with a leading zero column; `phase` is (n, T) with
    `phase[i, t] = y[i, t] + phase[i, t - m]`; `last_sale` is (n, T), index of the last sale <= t.
    """

    def __init__(self, panel: Panel) -> None:
        y = panel.y.astype(np.float64)
        n, t = y.shape
        zero = np.zeros((n, 1))
        self.cum = np.hstack([zero, np.cumsum(y, axis=1)])
        self.cum_abs = np.hstack([zero, np.cumsum(np.abs(y), axis=1)])
        self.cum2 = np.hstack([zero, np.cumsum(y * y, axis=1)])
        self.cum_nz = np.hstack([zero, np.cumsum(y != 0, axis=1)])
        self.cum_promo = np.hstack([zero, np.cumsum(panel.promo[:, :t] > 0, axis=1)])
        m = panel.season
        phase = y.copy()
        for j in range(m, t):
            phase[:, j] += phase[:, j - m]
        self.phase = phase
        idx = np.where(y != 0, np.arange(t)[None, :], -1)
        self.cum_hol = np.concatenate([[0], np.cumsum(panel.holiday)])
        self.last_sale = np.maximum.accumulate(idx, axis=1)
        self.y = y


def scale_at(panel: Panel, stats: PanelStats, rows: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """(len(rows),) series scale at each origin: mean |y| of the last 13 weeks, floored at 0.05."""
    w = 91 if panel.freq == "D" else 13
    return np.maximum(_window_mean(panel, stats.cum_abs, rows, origin, w), 0.05)


def _window_mean(
    panel: Panel, cum: np.ndarray, rows: np.ndarray, origin: np.ndarray, w: int
) -> np.ndarray:
    """Mean over the last `w` periods up to `origin` inclusive, since the series started."""
    hi = origin + 1
    lo = np.maximum(hi - w, panel.start[rows])
    count = np.maximum(hi - lo, 1)
    lo = np.minimum(lo, hi)
    return (cum[rows, hi] - cum[rows, lo]) / count


def build_features(
    panel: Panel,
    stats: PanelStats,
    rows: np.ndarray,
    origin: np.ndarray,
    horizon: np.ndarray,
    store_codes: np.ndarray,
    category_codes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix for triples (rows[j], origin[j], horizon[j]).

    Returns:
        (X, scale): X is (m, len(FEATURE_NAMES)) float32, scale is (m,) the divisor of the target.
    """
    freq = panel.freq
    m = panel.season
    year = YEAR[freq]
    short, month_w, quarter_w, half_w = (7, 28, 91, 182) if freq == "D" else (1, 4, 13, 26)
    target = origin + horizon
    s = scale_at(panel, stats, rows, origin)

    def mean(w: int) -> np.ndarray:
        return _window_mean(panel, stats.cum, rows, origin, w)

    mean_month = mean(month_w)
    var = _window_mean(panel, stats.cum2, rows, origin, month_w) - mean_month**2
    nz_month = _window_mean(panel, stats.cum_nz, rows, origin, month_w)
    nz_quarter = _window_mean(panel, stats.cum_nz, rows, origin, quarter_w)
    last_sale = stats.last_sale[rows, origin]
    since_sale = np.where(last_sale >= 0, origin - last_sale, 9999)
    age = origin - panel.start[rows]

    # Same phase of the season (same weekday), latest J occurrences at or before the origin.
    back = m * np.ceil(horizon / m).astype(np.int64)
    p_idx = target - back

    def same_phase(j: int) -> np.ndarray:
        first = np.maximum(p_idx - m * j, -1)
        total = stats.phase[rows, p_idx] - np.where(first >= 0, stats.phase[rows, first], 0.0)
        count = np.clip((p_idx - np.maximum(panel.start[rows] - 1, first)) // m, 1, j)
        return total / count

    ly = target - year
    ly_ok = (ly <= origin) & (ly >= panel.start[rows])
    last_year = np.where(ly_ok, stats.y[rows, np.clip(ly, 0, None)], np.nan)
    half = 3 if freq == "D" else 1
    lo_w = np.clip(ly - half, 0, None)
    hi_w = np.clip(np.minimum(ly + half + 1, origin + 1), 0, None)
    window_sum = stats.cum[rows, hi_w] - stats.cum[rows, lo_w]
    ly_window = np.where(ly_ok & (hi_w > lo_w), window_sum / np.maximum(hi_w - lo_w, 1), np.nan)

    days = panel.dates[0] + np.timedelta64(1 if freq == "D" else 7, "D") * target
    dow = (days.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
    months = days.astype("datetime64[M]")
    month = months.view("int64") % 12 + 1
    dom = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    doy = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    holiday = panel.holiday[np.clip(target, 0, panel.holiday.shape[0] - 1)]
    promo = panel.promo[rows, np.clip(target, 0, panel.promo.shape[1] - 1)]
    promo_recent = _window_mean(panel, stats.cum_promo, rows, origin, month_w)
    # lags 2..4 (lag 1 is last_value; lag 52 of a weekly target is last_year), NaN before start
    lags = []
    for j in (1, 2, 3):
        at = origin - j
        lags.append(
            np.where(at >= panel.start[rows], stats.y[rows, np.clip(at, 0, None)], np.nan) / s
        )
    # the month before the last one, and a linear recent trend (last month vs that one)
    prev_hi = origin + 1 - month_w
    prev_lo = np.maximum(prev_hi - month_w, panel.start[rows])
    has_prev = prev_hi > prev_lo
    prev_sum = (
        stats.cum[rows, np.clip(prev_hi, 0, None)] - stats.cum[rows, np.clip(prev_lo, 0, None)]
    )
    mean_prev = np.where(has_prev, prev_sum / np.maximum(prev_hi - prev_lo, 1), np.nan)
    trend = (mean_month - mean_prev) / s
    n_hol = panel.holiday.shape[0]
    hol_lo = np.clip(target - (3 if freq == "D" else 1), 0, n_hol)
    hol_hi = np.clip(target + (4 if freq == "D" else 2), 0, n_hol)
    holidays_near = stats.cum_hol[hol_hi] - stats.cum_hol[hol_lo]
    promo_now = panel.promo[rows, np.clip(origin, 0, panel.promo.shape[1] - 1)]

    cols = [
        horizon,
        np.log(s),
        mean(short) / s,
        mean_month / s,
        mean(year) / s,
        np.sqrt(np.maximum(var, 0)) / s,
        nz_month,
        nz_quarter,
        stats.y[rows, origin] / s,
        since_sale,
        age,
        same_phase(4) / s,
        same_phase(12) / s,
        last_year / s,
        ly_window / s,
        dow if freq == "D" else np.full_like(dow, -1),
        dom,
        month,
        doy // 7,
        holiday,
        promo,
        promo_recent,
        store_codes[rows],
        category_codes[rows],
        *lags,
        mean_prev / s,
        mean(half_w) / s,
        trend,
        holidays_near,
        promo - promo_now,
    ]
    return np.column_stack(cols).astype(np.float32), s


#: Features read a year before the target (NaN where the history does not reach back a year).
YEAR_AGO_FEATURES: tuple[str, ...] = ("last_year", "last_year_window")


def months_with_year_ago(x: np.ndarray) -> tuple[int, ...]:
    """Target months (1..12) of the feature rows `x` (m, len(FEATURE_NAMES)) that have a
    year-ago value: the months a model trained on `x` has seen those features in."""
    has = np.isfinite(x[:, FEATURE_NAMES.index("last_year")])
    return tuple(int(v) for v in np.unique(x[has, FEATURE_NAMES.index("month")]))


def blank_unseen_year_ago(x: np.ndarray, months: tuple[int, ...]) -> np.ndarray:
    """`x` with the year-ago features set to NaN on rows whose target month is not in `months`.

    On a short history a model sees year-ago values only for the newest months of its training
    targets (a 78-week weekly panel: spring and summer). Trees cannot carry what they learned
    there to other months' year-ago values, so a winter forecast read them wrongly (store-item,
    104 weeks: +0.18 to +0.24 bias in January-March, BENCHMARKS.md "Session 25"); without them it
    takes the path trained on every month. Modifies and returns `x`.
    """
    unseen = ~np.isin(x[:, FEATURE_NAMES.index("month")], np.asarray(months, dtype=x.dtype))
    for name in YEAR_AGO_FEATURES:
        x[unseen, FEATURE_NAMES.index(name)] = np.nan
    return x
