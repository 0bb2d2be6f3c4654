"""Forecasting speed: series/s per model, end to end, peak memory, growth with the series count.

Each case runs in its own subprocess (so peak RSS is that case's), pinned to 2 cores when the
machine allows it (`os.sched_setaffinity`). Cases:

- `panel`: a warehouse (e.g. the store-item panel) through `load_panel` + every model
  (calibration fit + cutoff forecast + conformal intervals), seconds and series/s per model,
  and the LightGBM path end to end (load, features, fit, predict, intervals).
- `synthetic N`: N synthetic daily series (Poisson around weekly/yearly seasonality, a third of
  them intermittent), baselines and LightGBM, to show how time grows with N.

Usage:
    python bench/bench_forecast.py --db /tmp/si.duckdb --until 2017-09-30 --horizon 90 \
        --sizes 500 5000 50000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

MODELS_PANEL = ("seasonal_naive", "moving_average", "croston_sba", "tsb", "ets", "lightgbm")
MODELS_SYNTH = ("seasonal_naive", "moving_average", "croston_sba", "lightgbm")


def _pin() -> int:
    try:
        cores = sorted(os.sched_getaffinity(0))[:2]
        os.sched_setaffinity(0, cores)
        return len(cores)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (all threads)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_panel(n: int, days: int = 560, seed: int = 0):
    """A Panel of n daily series (no warehouse), deterministic."""
    from forecasting.data import Panel

    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = rng.lognormal(0.5, 1.0, n)[:, None]
    weekly = 1 + 0.3 * np.sin(2 * np.pi * (t[None, :] + rng.integers(0, 7, (n, 1))) / 7)
    yearly = 1 + 0.2 * np.sin(2 * np.pi * t[None, :] / 365.25)
    lam = level * weekly * yearly
    intermittent = rng.random(n) < 0.33
    lam[intermittent] *= 0.15
    y = rng.poisson(lam).astype(np.float32)
    dates = np.datetime64("2023-01-02") + np.arange(days)
    return Panel(
        np.array([f"S{i % 10}" for i in range(n)]),
        np.array([f"P{i}" for i in range(n)]),
        np.array([f"C{i % 12}" for i in range(n)]),
        dates,
        y,
        np.zeros(n, dtype=np.int64),
        "D",
        np.zeros((n, days + 120), np.float32),
        np.zeros(days + 120, bool),
    )


def case_panel(db: str, until: dt.date, horizon: int) -> dict[str, object]:
    """Every model on a warehouse panel, plus the LightGBM path end to end."""
    from forecasting.data import load_panel
    from forecasting.engine import EngineConfig, forecast_panel

    cores = _pin()
    t0 = time.perf_counter()
    panel = load_panel(db, until, horizon=horizon, active_days=90)
    load_s = time.perf_counter() - t0
    end = panel.y.shape[1] - 1
    res = forecast_panel(
        panel, end, EngineConfig(horizon=horizon, models=MODELS_PANEL, prophet_series=20)
    )
    models = {k: v.seconds for k, v in res.forecasts.items() if v.seconds}
    n_by = {k: int(v.rows.size) for k, v in res.forecasts.items()}
    t1, c1 = time.perf_counter(), _cpu_s()
    panel = load_panel(db, until, horizon=horizon, active_days=90)
    forecast_panel(
        panel,
        end,
        EngineConfig(horizon=horizon, models=("moving_average", "lightgbm"), prophet_series=0),
    )
    e2e, e2e_cpu = time.perf_counter() - t1, _cpu_s() - c1
    return {
        "case": "panel",
        "cores": cores,
        "n_series": panel.n,
        "load_s": load_s,
        "model_s": models,
        "model_n": n_by,
        "lightgbm_end_to_end_s": e2e,
        "lightgbm_end_to_end_cpu_s": e2e_cpu,
        "peak_mb": _peak_mb(),
    }


def case_synthetic(n: int, horizon: int) -> dict[str, object]:
    """Baselines and LightGBM on n synthetic series."""
    from forecasting.engine import EngineConfig, forecast_panel

    cores = _pin()
    t0 = time.perf_counter()
    panel = synthetic_panel(n)
    make_s = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), _cpu_s()
    res = forecast_panel(
        panel,
        panel.y.shape[1] - 1,
        EngineConfig(horizon=horizon, models=MODELS_SYNTH, prophet_series=0),
    )
    total, cpu = time.perf_counter() - t1, _cpu_s() - c1
    return {
        "case": "synthetic",
        "cores": cores,
        "n_series": n,
        "make_s": make_s,
        "total_s": total,
        "cpu_s": cpu,
        "peak_mb": _peak_mb(),
        "model_s": {k: v.seconds for k, v in res.forecasts.items() if v.seconds},
    }


def _sub(args: list[str]) -> dict[str, object]:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"case {args} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the cases and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="warehouse for the panel case (e.g. the store-item panel)")
    parser.add_argument("--until", type=dt.date.fromisoformat)
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 5000, 50000])
    parser.add_argument("--synthetic-horizon", type=int, default=28)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case == "panel":
        print(json.dumps(case_panel(args.db, args.until, args.horizon)))
        return
    if args.case == "synthetic":
        print(json.dumps(case_synthetic(args.n, args.synthetic_horizon)))
        return
    if args.db:
        r = _sub(
            [
                "--case",
                "panel",
                "--db",
                args.db,
                "--until",
                str(args.until),
                "--horizon",
                str(args.horizon),
            ]
        )
        print(
            f"\npanel {args.db} until {args.until}, horizon {args.horizon}: {r['n_series']} "
            f"series, {r['cores']} cores, peak {r['peak_mb']:.0f} MB, load {r['load_s']:.1f} s"
        )
        print(f"{'model':<16}{'series':>8}{'seconds':>10}{'series/s':>10}")
        for name, secs in sorted(r["model_s"].items(), key=lambda kv: kv[1]):
            n = r["model_n"][name]
            print(f"{name:<16}{n:>8}{secs:>10.1f}{n / secs:>10.1f}")
        e2e = r["lightgbm_end_to_end_s"]
        print(
            f"{'lightgbm e2e':<16}{r['n_series']:>8}{e2e:>10.1f}{r['n_series'] / e2e:>10.1f}"
            "   (load + features + fit + predict + intervals, with the fallback baseline; "
            f"{r['lightgbm_end_to_end_cpu_s']:.1f} CPU s)"
        )
    if args.sizes:
        print(
            f"\nsynthetic daily series, horizon {args.synthetic_horizon}, models "
            f"{', '.join(MODELS_SYNTH)}"
        )
        print(
            f"{'series':>8}{'total s':>10}{'CPU s':>8}{'series/s':>10}{'peak MB':>10}"
            f"{'x time':>8}  per model s"
        )
        first = None
        for n in args.sizes:
            r = _sub(
                [
                    "--case",
                    "synthetic",
                    "--n",
                    str(n),
                    "--synthetic-horizon",
                    str(args.synthetic_horizon),
                ]
            )
            first = first or r["total_s"]
            per = ", ".join(f"{k} {v:.1f}" for k, v in r["model_s"].items())
            print(
                f"{n:>8}{r['total_s']:>10.1f}{r['cpu_s']:>8.1f}{n / r['total_s']:>10.0f}"
                f"{r['peak_mb']:>10.0f}"
                f"{r['total_s'] / first:>8.1f}  {per}",
                flush=True,
            )


if __name__ == "__main__":
    main()
