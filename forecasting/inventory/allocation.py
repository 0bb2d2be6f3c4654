"""A pooled service target met with the least stock: reorder-point grids and their allocation.

Arrays are `[n_pairs]` or `[n_pairs, n_grid]` (units); service levels are shares of cycles.
"""

from __future__ import annotations

import numpy as np

#: Candidate per-item service levels of the portfolio allocation (0.5 .. 0.999).
SERVICE_GRID: np.ndarray = np.unique(
    np.concatenate(
        [np.round(np.arange(0.50, 0.99, 0.005), 3), [0.99, 0.992, 0.994, 0.996, 0.998, 0.999]]
    )
)


def reorder_point_grid(
    samples: np.ndarray, levels: np.ndarray = SERVICE_GRID
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point at each candidate level and the service it gives, per row.

    Args:
        samples: lead-time demand (+ undershoot) samples `[n, m]`.
        levels: candidate cycle service levels `[G]`, increasing.
    Returns:
        (s, service), each `[n, G]`: s = `quantile_reorder_point` at each level and
        service = P(sample <= s) (at least the level; more where demand is lumpy).
    """
    n, m = samples.shape
    ordered = np.sort(samples, axis=1)
    k = np.clip(np.ceil(levels * m - 1e-9).astype(np.int64), 1, m) - 1
    s = np.ceil(ordered[:, k] - 1e-9)  # [n, G]
    # rank of s in its own row: shift each row above the previous one, search the flat array
    span = float(np.nanmax(ordered, initial=0.0)) - float(np.nanmin(ordered, initial=0.0)) + 2.0
    offset = (np.arange(n) * span)[:, None]
    flat = (ordered - ordered[:, :1] + offset).ravel()
    rank = np.searchsorted(flat, (s - ordered[:, :1] + offset).ravel() + 1e-9, side="right")
    service = (rank.reshape(n, -1) - np.arange(n)[:, None] * m) / m
    return s, np.clip(service, 0.0, 1.0)


def allocate_service(
    s_grid: np.ndarray, service_grid: np.ndarray, weights: np.ndarray, target: float, floor: float
) -> np.ndarray:
    """Per-item reorder points that meet a pooled service target with the least stock.

    The pooled cycle service of a group of items is sum_i w_i CSL_i(s_i) / sum_i w_i, where w_i
    is item i's replenishment cycles per day (each cycle counts once). Raising s_i by a unit adds
    about a unit of average stock, so the cheapest way to the target raises s where a unit buys
    the most weighted service (Brown's exchange curve; marginal analysis as in Sherbrooke).
    Solved by a Lagrange multiplier lam: each item takes argmax_j w_i service_ij - lam s_ij over
    its candidates whose service is at least `floor`; lam is bisected to the cheapest choice
    just short of the target, and the items whose next unit of s buys the most service then
    step up one candidate each until the pooled target is reached (the multiplier alone can
    jump past it where an item's service rises linearly in s).

    Args:
        s_grid, service_grid: candidate reorder points and the cycle service each gives, `[n, G]`,
            both non-decreasing along G (e.g. from `reorder_point_grid`).
        weights: cycles per day per item, `[n]` (0 for items without demand).
        target: pooled cycle service target of the group.
        floor: no item is planned below this service (an item that never reaches it gets its
            highest candidate).
    Returns:
        Reorder points `[n]`.
    """
    allowed = service_grid >= floor - 1e-9
    allowed[~allowed.any(axis=1), -1] = True
    kept = allowed.any(axis=0)  # candidates below the floor for every item: dropped
    # float32 halves the memory traffic of the bisection (values ~1e-4..1, s whole units)
    allowed, s = allowed[:, kept], s_grid[:, kept].astype(np.float32)
    value = np.where(allowed, weights[:, None] * service_grid[:, kept], -np.inf).astype(np.float32)
    total = float(weights.sum())
    rows = np.arange(len(weights))
    if total <= 0:
        return s[rows, np.argmax(allowed, axis=1)].astype(np.float64)
    need = target * total * (1.0 - 1e-6)  # float32 values: 1e-4 points of service slack

    def pooled(j: np.ndarray) -> float:
        return float(value[rows, j].sum(dtype=np.float64))

    def choose(lam: float) -> np.ndarray:
        return np.argmax(value - np.float32(lam) * s, axis=1)  # ties: the lower (cheaper) one

    top = choose(0.0)
    if pooled(top) < need:  # even every item at its best falls short
        return s[rows, top].astype(np.float64)
    low, high = 0.0, float(weights.max()) + 1.0  # at high every item sits at its cheapest level
    for _ in range(40):  # lam to ~1e-12 of its range: finer steps change no choice
        mid = 0.5 * (low + high)
        if pooled(choose(mid)) >= need:
            low = mid
        else:
            high = mid
    j = choose(high)
    columns = np.arange(s.shape[1])
    while (deficit := need - pooled(j)) > 0:
        # each item's next candidate with a larger s, and the service per unit it buys
        later = (s > s[rows, j][:, None]) & (columns[None, :] > j[:, None]) & allowed
        has_next = later.any(axis=1)
        nxt = np.where(has_next, np.argmax(later, axis=1), j)
        gain = value[rows, nxt] - value[rows, j]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(has_next, gain / (s[rows, nxt] - s[rows, j]), -np.inf)
        order = np.argsort(-ratio, kind="stable")
        order = order[np.isfinite(ratio[order])]
        if order.size == 0:
            break
        enough = np.searchsorted(np.cumsum(gain[order]), deficit - 1e-12)
        step = order[: enough + 1]
        j[step] = nxt[step]
    return s[rows, j].astype(np.float64)
