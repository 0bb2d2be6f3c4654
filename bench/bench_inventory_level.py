"""How much of a replay's miss the as-of level explains: no level, the estimate, the true level.

Usage:
    python bench/bench_inventory_level.py --db PATH --until DATE [--days 90] [--target 0.95]
        [--samples 500] [--oracle-days 14]

Replays the same days three times with only shelfwise's level changed: `off` (the 56-day window
as is), `auto` (the as-of level of `forecasting.inventory.level`) and `oracle` (the window
rescaled to the true mean of the next `--oracle-days` days of demand, known only in hindsight:
a ceiling for any level estimate, not a policy). Prints cycle service with its cycles and
standard error, fill rate and stock, by month; then which pairs the cycle service is measured
on: how many pairs complete a cycle, and the median ratio of their replay demand to their
window demand beside that of the pairs that complete none (a selection the measure makes).
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

import numpy as np

import forecasting.inventory.simulate as sim
from forecasting.inventory.config import PlanConfig
from forecasting.inventory.level import Level


def _oracle(state: dict[str, Any], days: int) -> Any:
    """A stand-in for `level_estimate` that reads the true future demand (hindsight only)."""

    def level(pairs: Any, history: np.ndarray, first_day: Any, cfg: PlanConfig, seasonal: bool):
        data, day = state["data"], state["day"]
        back = data.back(state["cfg"])
        future = data.demand[:, back + day : back + day + days].mean(axis=1)
        window = history[:, -cfg.shape_days :].mean(axis=1)
        ok = window > 0
        factor = np.where(ok, np.clip(future / np.where(ok, window, 1.0), 0.05, 20.0), 1.0)
        n = len(factor)
        return Level(factor, future, np.ones(n, dtype=bool), np.zeros(n))

    return level


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--until", type=date.fromisoformat, required=True)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--target", type=float, default=0.95)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--oracle-days", type=int, default=14)
    args = parser.parse_args()
    data = sim.load_sim_data(args.db, sim.SimConfig(until=args.until, days=args.days))
    state: dict[str, Any] = {}
    policies, estimate = sim._policies, sim.level_estimate

    def tracked(data_: sim.SimData, cfg: sim.SimConfig, day: int, rng: Any) -> Any:
        state.update(data=data_, cfg=cfg, day=day)
        return policies(data_, cfg, day, rng)

    sim._policies = tracked  # type: ignore[assignment]
    print(
        "| level | cycle service | cycles | se (pts) | fill rate | avg on hand | by month "
        "(service / cycles) |\n|---|---|---|---|---|---|---|"
    )
    auto_totals = None
    for mode in ("off", "auto", "oracle"):
        sim.level_estimate = _oracle(state, args.oracle_days) if mode == "oracle" else estimate
        plan = PlanConfig(
            service_level=args.target,
            n_samples=args.samples,
            level="off" if mode == "off" else "auto",
        )
        result = sim.simulate(
            data, sim.SimConfig(until=args.until, days=args.days, plan=plan), progress=False
        )
        m = result.as_json()["policies"]["shelfwise"]  # type: ignore[index]
        months = ", ".join(
            f"{k} {v['cycle_service_level']:.3f} / {v['cycles']}" for k, v in m["by_month"].items()
        )
        print(
            f"| {mode} | {m['cycle_service_level']:.4f} | {m['cycles']:,} | "
            f"{100 * m['cycle_service_se']:.2f} | {m['fill_rate']:.4f} | "
            f"{m['avg_on_hand_units']:.2f} | {months} |"
        )
        if mode == "auto":
            auto_totals = result.per_pair
    sim.level_estimate, sim._policies = estimate, policies  # type: ignore[assignment]
    assert auto_totals is not None
    cycles, bad = auto_totals["cycles"][0], auto_totals["bad_cycles"][0]
    back = data.back(sim.SimConfig(until=args.until, days=args.days))
    window = data.demand[:, back - 56 : back].mean(axis=1)
    replay = data.demand[:, back:].mean(axis=1)
    ratio = np.where(window > 0, replay / np.where(window > 0, window, 1.0), np.nan)
    print(
        f"\npairs {data.pairs.height:,}; with a complete cycle (auto) {int((cycles > 0).sum()):,}"
        f"; with a failed cycle {int((bad > 0).sum()):,}"
    )
    print(
        "median replay / window mean daily demand: pairs with a cycle "
        f"{np.nanmedian(ratio[cycles > 0]):.2f}, without {np.nanmedian(ratio[cycles == 0]):.2f}"
        f", with a failed cycle {np.nanmedian(ratio[bad > 0]):.2f}"
    )


if __name__ == "__main__":
    main()
