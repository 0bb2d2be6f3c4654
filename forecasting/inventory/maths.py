"""Inventory policy maths: pure functions on numpy arrays, one row per store x product.

Conventions (units): demand in units per day, lead times in days, costs in GBP, holding cost
rates as a share of unit cost per year. Arrays are 1-D `[n_pairs]` unless a shape says otherwise;
samples are `[n_pairs, n_samples]`.

Timing used everywhere (and by `forecasting.inventory.simulate`): stock is reviewed at the end
of each day; an order placed at the end of day t with lead time L arrives in time for day
t + L + 1, so the order is exposed to L days of demand, plus the *undershoot*: how far the
inventory position had already fallen below the reorder point when the order was triggered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtri

DAYS_PER_YEAR = 365.0
MIN_SERVICE_LEVEL = 0.5
MAX_SERVICE_LEVEL = 0.999


def check_service_level(level: float, name: str = "service level") -> float:
    """Return `level` if it is a usable target in [0.5, 0.999], else raise a clear ValueError."""
    if not np.isfinite(level) or not MIN_SERVICE_LEVEL <= level <= MAX_SERVICE_LEVEL:
        raise ValueError(
            f"{name} must be between {MIN_SERVICE_LEVEL} and {MAX_SERVICE_LEVEL} "
            f"(a share, e.g. 0.95), got {level}; 1.0 would need infinite stock"
        )
    return float(level)


def check_non_negative(values: np.ndarray | float, name: str) -> None:
    """Raise ValueError naming `name` when any value is negative or not finite."""
    arr = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        first = arr.ravel()[np.flatnonzero(bad.ravel())[0]]
        raise ValueError(f"{name} must be a non-negative number, got {first}")


def eoq(
    annual_demand: np.ndarray | float,
    order_cost: np.ndarray | float,
    holding_cost_per_unit_year: np.ndarray | float,
) -> np.ndarray:
    """Economic order quantity sqrt(2 D K / h) in units (0 where demand is 0).

    Args:
        annual_demand: D, units per year.
        order_cost: K, GBP per order.
        holding_cost_per_unit_year: h, GBP per unit per year (> 0 where D > 0).
    """
    d = np.asarray(annual_demand, dtype=np.float64)
    k = np.asarray(order_cost, dtype=np.float64)
    h = np.asarray(holding_cost_per_unit_year, dtype=np.float64)
    check_non_negative(d, "annual demand")
    check_non_negative(k, "order cost")
    check_non_negative(h, "holding cost")
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * d * k / h)
    return np.where(d > 0, q, 0.0)


def round_order_quantity(
    qty: np.ndarray | float, case_pack: np.ndarray | float, min_order_qty: np.ndarray | float
) -> np.ndarray:
    """Round quantities up to whole case packs, at least the minimum order (0 stays 0)."""
    q = np.asarray(qty, dtype=np.float64)
    pack = np.maximum(np.asarray(case_pack, dtype=np.float64), 1e-9)
    moq = np.asarray(min_order_qty, dtype=np.float64)
    rounded = np.ceil(np.maximum(q, moq) / pack - 1e-9) * pack
    return np.where(q > 0, rounded, 0.0)


def critical_fractile(
    underage_cost: np.ndarray | float, overage_cost: np.ndarray | float
) -> np.ndarray:
    """Newsvendor optimal service level cu / (cu + co)."""
    cu = np.asarray(underage_cost, dtype=np.float64)
    co = np.asarray(overage_cost, dtype=np.float64)
    check_non_negative(cu, "underage cost")
    check_non_negative(co, "overage cost")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(cu + co > 0, cu / (cu + co), 0.5)


def newsvendor_quantity(mean: float, sd: float, underage_cost: float, overage_cost: float) -> float:
    """Order quantity for normal demand: mean + z(cu / (cu + co)) sd."""
    fractile = float(critical_fractile(underage_cost, overage_cost))
    return float(mean + ndtri(fractile) * sd)


def cost_based_cycle_service(
    annual_demand: np.ndarray,
    order_qty: np.ndarray,
    holding_cost_per_unit_year: np.ndarray,
    shortage_cost_per_unit: np.ndarray,
) -> np.ndarray:
    """Cost-optimal cycle service level of an (s, Q) policy with lost sales.

    Hadley-Whitin: P(stockout per cycle) = h Q / (h Q + p D), so CSL = p D / (p D + h Q); clipped
    to the usable range [0.5, 0.999].
    """
    p_d = np.asarray(shortage_cost_per_unit, dtype=np.float64) * np.asarray(annual_demand)
    h_q = np.asarray(holding_cost_per_unit_year, dtype=np.float64) * np.asarray(order_qty)
    with np.errstate(divide="ignore", invalid="ignore"):
        csl = np.where(p_d + h_q > 0, p_d / (p_d + h_q), MIN_SERVICE_LEVEL)
    return np.clip(csl, MIN_SERVICE_LEVEL, MAX_SERVICE_LEVEL)


def lead_time_demand_sigma(
    mean_daily: np.ndarray | float,
    sd_daily: np.ndarray | float,
    lead_time_mean: np.ndarray | float,
    lead_time_sd: np.ndarray | float,
) -> np.ndarray:
    """Standard deviation of demand over a random lead time: sqrt(L sd_d^2 + d^2 sd_L^2)."""
    d = np.asarray(mean_daily, dtype=np.float64)
    sd_d = np.asarray(sd_daily, dtype=np.float64)
    lt = np.asarray(lead_time_mean, dtype=np.float64)
    sd_l = np.asarray(lead_time_sd, dtype=np.float64)
    check_non_negative(lt, "lead time")
    check_non_negative(sd_l, "lead time sd")
    return np.sqrt(lt * sd_d**2 + d**2 * sd_l**2)


def normal_reorder_point(
    mean_daily: np.ndarray | float,
    sd_daily: np.ndarray | float,
    lead_time_mean: np.ndarray | float,
    lead_time_sd: np.ndarray | float,
    service_level: np.ndarray | float,
) -> tuple[np.ndarray, np.ndarray]:
    """Textbook reorder point under normal lead-time demand: (reorder point, safety stock).

    safety stock = z(service) * sqrt(L sd_d^2 + d^2 sd_L^2); reorder point = d L + safety stock.
    """
    levels = np.atleast_1d(np.asarray(service_level, dtype=np.float64))
    for level in np.unique(levels):
        check_service_level(float(level))
    sigma = lead_time_demand_sigma(mean_daily, sd_daily, lead_time_mean, lead_time_sd)
    safety = ndtri(np.asarray(service_level, dtype=np.float64)) * sigma
    return np.asarray(mean_daily) * np.asarray(lead_time_mean) + safety, safety


def sample_lead_times(
    rng: np.random.Generator, mean: np.ndarray, sd: np.ndarray, n_samples: int
) -> np.ndarray:
    """Whole-day lead times, normal(mean, sd) rounded and floored at 0: `[n_pairs, n_samples]`."""
    check_non_negative(mean, "lead time")
    check_non_negative(sd, "lead time sd")
    draws = rng.standard_normal((len(mean), n_samples))
    return np.maximum(np.rint(mean[:, None] + sd[:, None] * draws), 0.0)


def sample_window_sums(
    rng: np.random.Generator, history: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Moving-block bootstrap: demand over `lengths` consecutive days of each pair's history.

    Each sample starts on a random day of the (circular) history window, so weekly patterns and
    runs of zeros (intermittent demand) are kept. Lengths longer than the window wrap around.

    Args:
        history: daily demand, `[n_pairs, n_days]` (n_days >= 1).
        lengths: whole days per sample, `[n_pairs, n_samples]`.
    Returns:
        Demand totals `[n_pairs, n_samples]`.
    """
    n_pairs, window = history.shape
    lengths = lengths.astype(np.int64)
    doubled = np.concatenate([history, history], axis=1)
    csum = np.concatenate([np.zeros((n_pairs, 1)), np.cumsum(doubled, axis=1)], axis=1)
    starts = rng.integers(0, window, size=lengths.shape)
    full, rest = np.divmod(lengths, window)
    flat = csum.ravel()
    base = (np.arange(n_pairs) * csum.shape[1])[:, None] + starts  # flat gathers are faster
    partial = np.take(flat, base + rest) - np.take(flat, base)
    return full * csum[:, window][:, None] + partial


def window_sum_moments(history: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the demand over every run of L consecutive (circular) days.

    Args:
        history: daily demand `[n_pairs, n_days]`.
        max_len: largest L.
    Returns:
        (mean, variance), each `[n_pairs, max_len + 1]`, column L for runs of L days.
    """
    n_pairs, window = history.shape
    doubled = np.concatenate([history, history], axis=1)
    csum = np.concatenate([np.zeros((n_pairs, 1)), np.cumsum(doubled, axis=1)], axis=1)
    total = csum[:, window]
    mean = np.zeros((n_pairs, max_len + 1))
    var = np.zeros((n_pairs, max_len + 1))
    starts = np.arange(window)
    for length in range(1, max_len + 1):
        full, rest = divmod(length, window)
        sums = full * total[:, None] + csum[:, starts + rest] - csum[:, starts]
        mean[:, length] = sums.mean(axis=1)
        var[:, length] = sums.var(axis=1)
    return mean, var


def sample_nb_window_sums(
    rng: np.random.Generator, history: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Demand over `lengths` days from a negative binomial matched to the window-sum moments.

    Smooth version of `sample_window_sums`: for each L the mean and variance of the L-day runs
    of the history (so autocorrelation and weekly pattern count) define a negative binomial
    (Poisson when not over-dispersed), which has no gaps between the few observed window sums.
    Returns `[n_pairs, n_samples]`.
    """
    lengths = lengths.astype(np.int64)
    mean_l, var_l = window_sum_moments(history, int(lengths.max(initial=0)))
    rows = np.arange(history.shape[0])[:, None]
    mu = mean_l[rows, lengths]
    var = var_l[rows, lengths]
    over = var > mu * 1.0001
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(over, mu / var, 0.5)
        size = np.where(over, mu**2 / (var - mu), 1.0)
    nb = rng.negative_binomial(np.maximum(size, 1e-9), np.clip(p, 1e-12, 1.0))
    poisson = rng.poisson(np.maximum(mu, 0.0))
    return np.where(mu <= 0, 0.0, np.where(over, nb, poisson)).astype(np.float64)


def sample_undershoot(
    rng: np.random.Generator, history: np.ndarray, n_samples: int, integer: bool = True
) -> np.ndarray:
    """How far the position is below the reorder point when an order triggers: `[n, samples]`.

    Renewal theory: the day that crosses the reorder point is drawn with probability
    proportional to its demand X (size-biased), and the crossing happens uniformly inside it,
    so the undershoot is floor(V X) for whole units (V ~ U(0, 1)); 0 for pairs without demand.
    """
    n_pairs, window = history.shape
    totals = history.sum(axis=1)
    flat_cum = np.cumsum(history.ravel())
    offsets = np.concatenate([[0.0], flat_cum[window - 1 :: window][:-1]])
    # sorted draws make the search cache-friendly; sample order within a row does not matter
    draws = np.sort(rng.random((n_pairs, n_samples)), axis=1)
    targets = offsets[:, None] + draws * totals[:, None]
    idx = np.searchsorted(flat_cum, targets.ravel(), side="right").reshape(targets.shape)
    idx = np.minimum(idx, n_pairs * window - 1)
    day_demand = history.ravel()[idx]
    under = rng.random((n_pairs, n_samples)) * day_demand
    if integer:
        under = np.floor(under)
    return np.where(totals[:, None] > 0, under, 0.0)


def quantile_reorder_point(samples: np.ndarray, service_level: np.ndarray) -> np.ndarray:
    """Smallest whole s with P(sample <= s) >= service level, per row (`[n, samples]` -> `[n]`)."""
    n_samples = samples.shape[1]
    ordered = np.sort(samples, axis=1)
    k = np.ceil(np.asarray(service_level, dtype=np.float64) * n_samples - 1e-9).astype(np.int64)
    k = np.clip(k, 1, n_samples) - 1
    k = np.broadcast_to(k, (samples.shape[0],))
    return np.ceil(ordered[np.arange(samples.shape[0]), k] - 1e-9)


def fill_rate_reorder_point(
    samples: np.ndarray, order_qty: np.ndarray, fill_rate: np.ndarray | float
) -> np.ndarray:
    """Smallest sample value s whose expected shortage per cycle E[(X - s)+] <= (1 - fill) Q."""
    n, m = samples.shape
    ordered = np.sort(samples, axis=1)
    tail = np.cumsum(ordered[:, ::-1], axis=1)[:, ::-1]  # sum of x_j for j >= k
    count_above = m - np.arange(1, m + 1)  # number of j > k
    above_sum = np.concatenate([tail[:, 1:], np.zeros((n, 1))], axis=1)
    shortage = (above_sum - count_above * ordered) / m
    allowed = (1.0 - np.asarray(fill_rate, dtype=np.float64)) * np.asarray(order_qty)
    ok = shortage <= np.broadcast_to(allowed, (n,))[:, None] + 1e-12
    first = np.argmax(ok, axis=1)
    return np.ceil(ordered[np.arange(n), first] - 1e-9)


@dataclass(frozen=True)
class ClassRules:
    """ABC (value share) x XYZ (variability) classes and the cycle service target of each.

    Attributes:
        a_share, b_share: cumulative value shares closing classes A and B (0 < a < b < 1).
        x_cv, y_cv: coefficient of variation of weekly demand closing classes X and Y.
        targets: target per class "AX".."CZ"; a one-letter key ("A") applies to its whole row.
    """

    a_share: float = 0.8
    b_share: float = 0.95
    x_cv: float = 0.5
    y_cv: float = 1.0
    targets: Mapping[str, float] = field(
        default_factory=lambda: {
            "AX": 0.99,
            "AY": 0.98,
            "AZ": 0.95,
            "B": 0.95,
            "CX": 0.95,
            "CY": 0.92,
            "CZ": 0.90,
        }
    )

    def __post_init__(self) -> None:
        if not 0 < self.a_share < self.b_share < 1:
            raise ValueError(
                f"class shares need 0 < a_share < b_share < 1, got {self.a_share}, {self.b_share}"
            )
        if not 0 < self.x_cv < self.y_cv:
            raise ValueError(f"class cv limits need 0 < x_cv < y_cv, got {self.x_cv}, {self.y_cv}")
        for key, level in self.targets.items():
            check_service_level(level, f"target of class {key}")
        for abc in "ABC":
            for xyz in "XYZ":
                if abc + xyz not in self.targets and abc not in self.targets:
                    raise ValueError(f"class rules give no target for class {abc}{xyz}")

    def target(self, label: str) -> float:
        """Target of a class label such as "BY"."""
        return self.targets.get(label, self.targets.get(label[0], 0.95))


def abc_xyz_classes(value: np.ndarray, weekly_cv: np.ndarray, rules: ClassRules) -> np.ndarray:
    """Class labels ("AX".."CZ") from each pair's value (e.g. revenue) and weekly demand CV."""
    order = np.argsort(-value, kind="stable")
    total = value.sum()
    share = np.empty_like(value, dtype=np.float64)
    # share of value before this pair: the first pair is always A
    share[order] = (np.cumsum(value[order]) - value[order]) / total if total > 0 else 1.0
    abc = np.where(share < rules.a_share, "A", np.where(share < rules.b_share, "B", "C"))
    xyz = np.where(weekly_cv <= rules.x_cv, "X", np.where(weekly_cv <= rules.y_cv, "Y", "Z"))
    return np.char.add(abc.astype("<U1"), xyz.astype("<U1"))
