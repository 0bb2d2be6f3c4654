"""Where a replay's service comes from: by demand class (Syntetos-Boylan) and by month.

Demand classes are computed from the history before the replay only (Syntetos, Boylan & Croston
2005): ADI = days with the pair on sale / days with a sale (average demand interval) and CV^2 =
the squared coefficient of variation of the non-zero daily quantities; cut-offs ADI 1.32 and
CV^2 0.49 give smooth (low, low), erratic (low ADI, high CV^2), intermittent (high ADI, low
CV^2) and lumpy (high, high). Pairs without a sale in that history are "no history".

Every figure carries its number of replenishment cycles and the binomial standard error of the
cycle service, sqrt(p (1 - p) / cycles), so a gap can be read against its noise.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl

POLICIES: tuple[str, ...] = ("shelfwise", "normal_approx", "rule_of_thumb")

ADI_CUT = 1.32
CV2_CUT = 0.49
CLASSES: tuple[str, ...] = ("smooth", "erratic", "intermittent", "lumpy", "no history")


def demand_classes(history: np.ndarray, first_day: np.ndarray) -> np.ndarray:
    """Syntetos-Boylan class per pair from daily units before the replay.

    Args:
        history: daily units `[n_pairs, n_days]`, oldest first, ending the day before the replay.
        first_day: index of each pair's first sale in `history` (days before it do not count).
    Returns:
        Class names `[n_pairs]` (one of `CLASSES`).
    """
    n, n_days = history.shape
    active = np.arange(n_days)[None, :] >= first_day[:, None]
    sale = (history > 0) & active
    count = sale.sum(axis=1)
    on_sale = active.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(count > 0, on_sale / count, np.inf)
        values = np.where(sale, history, 0.0)
        mean = values.sum(axis=1) / np.maximum(count, 1)
        var = np.where(sale, (history - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(count, 1)
        cv2 = np.where(mean > 0, var / mean**2, 0.0)
    high_adi, high_cv = adi >= ADI_CUT, cv2 >= CV2_CUT
    out = np.where(
        high_adi,
        np.where(high_cv, "lumpy", "intermittent"),
        np.where(high_cv, "erratic", "smooth"),
    ).astype(object)
    out[count == 0] = "no history"
    return out


def service_cell(cycles: float, bad: float, demand: float, met: float) -> dict[str, float]:
    """Cycle service, its standard error, cycles and fill rate of one group."""
    if cycles > 0:
        p = 1.0 - bad / cycles
        se = float(np.sqrt(max(p * (1.0 - p), 0.0) / cycles))
    else:
        p, se = float("nan"), float("nan")
    return {
        "cycle_service_level": round(p, 4),
        "cycle_service_se": round(se, 4),
        "cycles": int(cycles),
        "fill_rate": round(met / demand, 4) if demand > 0 else float("nan"),
    }


def by_class(
    totals: dict[str, np.ndarray], classes: np.ndarray, policies: tuple[str, ...]
) -> dict[str, dict[str, dict[str, float]]]:
    """{policy: {class: service cell}} from per-pair totals `[n_policies, n_pairs]`."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for i, name in enumerate(policies):
        cells = {}
        for label in CLASSES:
            mask = classes == label
            if not mask.any():
                continue
            cells[str(label)] = service_cell(
                *(
                    float(totals[k][i][mask].sum())
                    for k in ("cycles", "bad_cycles", "demand", "met")
                )
            )
        out[name] = cells
    return out


def by_month(
    daily: dict[str, np.ndarray], until: date, policies: tuple[str, ...]
) -> dict[str, dict[str, dict[str, float]]]:
    """{policy: {"YYYY-MM": service cell}} from per-day totals `[n_policies, n_days]`.

    A cycle counts in the month of the arrival that closes it; day d of the replay is
    `until + d + 1`.
    """
    n_days = daily["cycles"].shape[1]
    months = np.array([(until + timedelta(days=d + 1)).strftime("%Y-%m") for d in range(n_days)])
    out: dict[str, dict[str, dict[str, float]]] = {}
    for i, name in enumerate(policies):
        out[name] = {
            str(month): service_cell(
                *(
                    float(daily[k][i][months == month].sum())
                    for k in ("cycles", "bad_cycles", "demand", "met")
                )
            )
            for month in dict.fromkeys(months)
        }
    return out


def per_product_summary(
    pairs: pl.DataFrame,
    totals: dict[str, np.ndarray],
    horizon: int,
    target: float,
    policies: tuple[str, ...],
) -> pl.DataFrame:
    """Replay totals per policy and product: service, fill rate, stock, stockout days, orders.

    `totals[k]` is `[n_policies, n_pairs]`; `horizon` is the replay length in days.
    """
    frames = []
    for i, name in enumerate(policies):
        frame = pairs.select("product_id").with_columns(
            *[pl.Series(k, v[i]) for k, v in totals.items()]
        )
        frames.append(
            frame.group_by("product_id")
            .agg(pl.len().alias("pairs"), *[pl.col(k).sum() for k in totals])
            .with_columns(pl.lit(name).alias("policy"))
        )
    out = pl.concat(frames)
    return out.select(
        "policy",
        pl.lit(target).alias("target"),
        pl.col("product_id").alias("scope"),
        pl.when(pl.col("cycles") > 0)
        .then(1 - pl.col("bad_cycles") / pl.col("cycles"))
        .alias("cycle_service_level"),
        pl.when(pl.col("demand") > 0).then(pl.col("met") / pl.col("demand")).alias("fill_rate"),
        (pl.col("on_hand") / (pl.col("pairs") * horizon)).alias("avg_on_hand_units"),
        pl.col("stockout_days").cast(pl.Int64),
        pl.col("orders").cast(pl.Int64),
    ).sort("policy", "scope")


def summarise(
    totals: dict[str, np.ndarray], horizon: int, mask: np.ndarray | None = None
) -> dict[str, dict[str, float]]:
    """Overall metrics per policy from per-pair totals, optionally for a subset of pairs."""
    return {
        name: _summary(
            {k: (v[i] if mask is None else v[i][mask]) for k, v in totals.items()}, horizon
        )
        for i, name in enumerate(POLICIES)
    }


def _summary(t: dict[str, np.ndarray], horizon: int) -> dict[str, float]:
    cycles = float(t["cycles"].sum())
    return {
        "cycle_service_level": round(1.0 - float(t["bad_cycles"].sum()) / cycles, 4)
        if cycles
        else float("nan"),
        "fill_rate": round(float(t["met"].sum()) / max(float(t["demand"].sum()), 1e-9), 4),
        "avg_on_hand_units": round(
            float(t["on_hand"].sum()) / max(len(t["on_hand"]) * horizon, 1), 3
        ),
        "stockout_days": int(t["stockout_days"].sum()),
        "orders": int(t["orders"].sum()),
    }
