"""The chosen forecaster's WAPE and 80%-interval coverage on the 17 coverage cuts (issue #13).

Each case builds the panel exactly as `bench/bench_forecast_real.py run_case` does (the same
warehouses from `bench/forecast_datasets.py`, `load_panel` through the scored periods, `_active`
over the 90 days before the cutoff, `forecast_panel(panel, end, EngineConfig(horizon=h,
prophet_series=0))`), with the cutoff moved back `shift` horizons plus `back` further periods
(weeks on the weekly panels, days on OR II daily), and scores the `h` periods after it. Peers are
not run (the engine only). Every case runs in its own process, one at a time, under `nice -n 5`
with `GOMP_SPINCOUNT=1000` (as `python -m forecasting` sets it), so memory and OpenMP stay sane.

Usage:
    python bench/forecast_cuts.py --work /tmp/fc/bench [--cases si-117,ord-1031] [--json out]

Columns: history = periods through the cutoff; bias = sum(yhat - y) / sum(y); below / above =
shares of the test points under / over the 80% interval; in band = coverage in 0.77-0.83;
wall and CPU seconds from loading the panel to the engine's result (CPU of this case's process
and its children).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# this checkout's packages, not an editable install of another one (a shared virtualenv)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: 80% coverage band of issue #13.
BAND = (0.77, 0.83)


@dataclass(frozen=True)
class Cut:
    """One case: `dataset` index in `forecast_datasets.build`'s order (0 OR II daily, 1
    store-item weekly, 2 OR II weekly), cutoff moved back `shift` horizons and `back` periods."""

    label: str
    dataset: int
    shift: int = 0
    back: int = 0


#: The 17 cuts of BENCHMARKS.md "Forecasting" (third and fourth sessions, session 25), table order.
CUTS: tuple[Cut, ...] = (
    Cut("ord-1031", 0),
    Cut("ord-1003", 0, shift=1),
    Cut("ord-0905", 0, shift=2),
    Cut("ord-0808", 0, shift=3),
    Cut("ord-1017", 0, back=14),
    Cut("si-117", 1),
    Cut("si-91", 1, shift=1),
    Cut("si-104", 1, back=13),
    Cut("si-78", 1, shift=1, back=13),
    Cut("si-84", 1, shift=1, back=7),
    Cut("si-110", 1, back=7),
    Cut("si-97", 1, back=20),
    Cut("si-113", 1, back=4),
    Cut("orw-43", 2),
    Cut("orw-35", 2, shift=1),
    Cut("orw-39", 2, back=4),
    Cut("orw-41", 2, back=2),
)
#: Held out in session 26 (HELDOUT.txt), declared before any run; run only when named.
HELDOUT: tuple[Cut, ...] = (
    Cut("si-100", 1, back=17),
    Cut("si-107", 1, back=10),
    Cut("orw-37", 2, back=6),
    Cut("ord-1024", 0, back=7),
)
BY_LABEL = {c.label: c for c in (*CUTS, *HELDOUT)}


def step_days(name: str) -> int:
    """Days per period of a benchmark dataset (its name says daily or weekly)."""
    return 1 if "daily" in name else 7


def cutoff(until: dt.date, step: int, h: int, shift: int, back: int) -> dt.date:
    """The dataset's cutoff `until` moved back `shift` horizons of `h` periods plus `back`
    periods, each `step` days long."""
    return until - dt.timedelta(days=step * (h * shift + back))


def in_band(cover: float) -> bool:
    """Whether an 80% coverage is inside `BAND` (both ends included, to three places)."""
    return BAND[0] <= round(cover, 3) <= BAND[1]


def run_cut(cut: Cut, work: Path, prophet: int = 0) -> dict:
    """Build the cut's panel as `run_case` does, run the engine, score the chosen forecaster
    (`prophet`: EngineConfig.prophet_series, 0 = none, -1 = every series)."""
    import numpy as np
    from bench_forecast_real import SHARED, _cpu_s, wape
    from forecast_datasets import build

    from forecasting.backtest import _active
    from forecasting.data import load_panel
    from forecasting.engine import AUTO, EngineConfig, forecast_panel

    ds = build(
        work,
        SHARED / "online-retail-ii-2009-2010" / "online_retail_II.parquet",
        SHARED / "store-item-demand" / "demand-forecasting-kernels-only.zip",
    )[cut.dataset]
    h, step = ds.horizon, step_days(ds.name)
    until = cutoff(ds.until, step, h, cut.shift, cut.back)
    last = until + dt.timedelta(days=step * h)
    load0 = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), _cpu_s()
    full = load_panel(ds.db, last, horizon=h, active_days=None)
    end = full.index_of(until)
    panel = _active(full, end, 90 // step)
    res = forecast_panel(panel, end, EngineConfig(horizon=h, prophet_series=prophet))
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    actual = panel.y[:, end + 1 : end + 1 + h].astype(np.float64)
    auto = res.forecasts[AUTO]
    lo, hi = auto.interval(80)
    below = float((actual < lo - 1e-9).mean())
    above = float((actual > hi + 1e-9).mean())
    return {
        "label": cut.label,
        "dataset": ds.name.split(" (")[0],
        "h": h,
        "cutoff": until.isoformat(),
        "history": end + 1,
        "series": panel.n,
        "chosen_wape": wape(actual, auto.yhat),
        "bias": float((auto.yhat - actual).sum() / actual.sum()),
        "cover80": 1.0 - below - above,
        "below": below,
        "above": above,
        "in_band": in_band(1.0 - below - above),
        "wall_s": wall,
        "cpu_s": cpu,
        "load": [load0, os.getloadavg()[0]],
        "choice": res.choice,
        "calibration": res.calibration,
    }


def _row(r: dict) -> str:
    unit = "d" if "daily" in r["dataset"] else "wk"
    name = f"{r['dataset']} h={r['h']}"
    choice = ", ".join(f"{k}: {v}" for k, v in r["choice"].items())
    return (
        f"{r['label']:<10}{name:<32}{r['cutoff']:<12}"
        f"{str(r['history']) + ' ' + unit:>7}{r['series']:>7}{r['chosen_wape']:>7.3f}"
        f"{r['bias']:>+8.3f}{r['cover80']:>7.3f}{r['below']:>7.3f}{r['above']:>7.3f}"
        f"{'yes' if r['in_band'] else 'NO':>5}{r['wall_s']:>7.1f}{r['cpu_s']:>7.1f}  {choice}"
        f"\n{'':<10}intervals: {r['calibration']}"
    )


def main() -> None:
    """Run every named cut, each in its own `nice -n 5` process, and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/shelfwise-bench-forecast"))
    parser.add_argument(
        "--cases",
        help=f"comma-separated labels (default: the 17 cuts); known: {', '.join(BY_LABEL)}",
    )
    parser.add_argument("--json", type=Path, help="write every case's numbers here")
    parser.add_argument(
        "--prophet",
        default="0",
        help="Prophet series per case: 0 (default, as the tables above), N, or 'all'",
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        os.environ.setdefault("GOMP_SPINCOUNT", "1000")  # before LightGBM loads
        prophet = -1 if args.prophet == "all" else int(args.prophet)
        print(json.dumps(run_cut(BY_LABEL[args.case], args.work, prophet)))
        return
    labels = args.cases.split(",") if args.cases else [c.label for c in CUTS]
    unknown = [x for x in labels if x not in BY_LABEL]
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {', '.join(BY_LABEL)}")
    from bench_forecast_real import SHARED
    from forecast_datasets import build

    build(  # once, before the cases (each reuses the warehouses)
        args.work,
        SHARED / "online-retail-ii-2009-2010" / "online_retail_II.parquet",
        SHARED / "store-item-demand" / "demand-forecasting-kernels-only.zip",
    )
    env = {**os.environ, "GOMP_SPINCOUNT": os.environ.get("GOMP_SPINCOUNT", "1000")}
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load0 = os.getloadavg()
    print(
        f"{'case':<10}{'dataset':<32}{'cutoff':<12}{'history':>7}{'series':>7}{'WAPE':>7}"
        f"{'bias':>8}{'cov80':>7}{'below':>7}{'above':>7}{'band':>5}{'wall s':>7}{'CPU s':>7}"
        "  choice",
        flush=True,
    )
    results = []
    for label in labels:
        cmd = ["nice", "-n", "5", sys.executable, __file__, "--work", str(args.work)]
        cmd += ["--prophet", args.prophet]
        done = subprocess.run([*cmd, "--case", label], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"case {label} failed: {done.stderr[-2000:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(_row(results[-1]), flush=True)
    met = sum(r["in_band"] for r in results)
    print(
        f"in the band {BAND[0]}-{BAND[1]}: {met} of {len(results)}; started {started}, load "
        f"average {load0[0]:.1f} / {load0[1]:.1f} / {load0[2]:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
