"""Accuracy and speed of the chosen forecaster against its peers on three real panels, one table.

Datasets (`bench/forecast_datasets.py`, built through the real warehouse ingest): Online Retail
II daily (history to 2010-10-31, 28 days ahead), the store-item panel in Friday-ending weeks
(117 weeks to 2017-06-30, 26 ahead) and Online Retail II products in Friday-ending weeks
(43 weeks to 2010-10-01, 8 ahead). Each forecasts the series that sold in the 90 days before
the cutoff and is scored once on the periods after it (never seen by any fit or choice).

Rows: `chosen` (the engine's `auto`: per demand segment the single model or equal-weight
ensemble of 2-3 models with the lowest WAPE on the validation window, the `h` periods before the
cutoff, fitted at cutoff - h) and its peers, each fitted on the same history:
seasonal naive; AutoETS (statsforecast, season 7 / 52, model picked by AICc); TSB with its two
smoothing constants picked on the validation window (the `h` periods before the cutoff, fitted
at cutoff - h) from a 3x3 grid; AutoARIMA on a seeded random sample of series; Prophet on every
series (`--prophet-sample N`: a seeded random sample instead on the datasets with over 1,000
series, where 3,000 fits cannot finish on 2 shared cores); and a plain LightGBM global model with
default settings (L2 objective on raw units, 100 trees, the same features). Each peer's WAPE
is beside the chosen forecaster's on the same series; `ratio` = chosen / peer (the goal is <= 0.95
against every peer).

Usage:
    python bench/bench_forecast_real.py --work /tmp/fc/bench [--prophet-sample 300] [--parallel]
        [--shift 1] [--arima-sample 0 | 300,100,0] [--cases 0,1,2] [--json out.json]
    python bench/bench_forecast_real.py --work /tmp/fc/bench --speed 60

`--shift 1` moves every cutoff back one horizon (a second period to check on).
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
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
# this checkout's packages, not an editable install of another one (a shared virtualenv)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from forecast_datasets import Dataset, build

SHARED = Path(
    os.environ.get("SHELFWISE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


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


def wape(actual: np.ndarray, yhat: np.ndarray) -> float:
    """sum |y - yhat| / sum y."""
    return float(np.abs(actual - yhat).sum() / max(actual.sum(), 1e-9))


def statsforecast_fit(panel, end: int, h: int, model, rows: np.ndarray) -> np.ndarray:
    """(len(rows), h) forecasts of one statsforecast model from the history through `end`."""
    import pandas as pd
    from statsforecast import StatsForecast

    from forecasting.data import STEP_DAYS

    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    lo = max(0, end + 1 - 2 * 364 if panel.freq == "D" else 0)
    t = end + 1 - lo
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(np.arange(rows.size), t),
            "ds": np.tile(panel.dates[lo : end + 1], rows.size),
            "y": panel.y[rows, lo : end + 1].reshape(-1).astype(np.float64),
        }
    )
    sf = StatsForecast(models=[model], freq=f"{STEP_DAYS[panel.freq]}D", n_jobs=1)
    out = sf.forecast(df=frame, h=h).sort_values(["unique_id", "ds"])
    values = out.iloc[:, -1].to_numpy(np.float64).reshape(rows.size, h)
    return np.maximum(np.nan_to_num(values), 0.0)


def _arima_chunk(job: tuple) -> np.ndarray:
    """AutoARIMA on one chunk of series (runs in a worker process)."""
    from statsforecast.models import AutoARIMA

    panel, end, h = job
    return statsforecast_fit(
        panel, end, h, AutoARIMA(season_length=panel.season), np.arange(panel.n)
    )


def autoarima_parallel(panel, end: int, h: int, rows: np.ndarray, workers: int = 2) -> np.ndarray:
    """(len(rows), h) AutoARIMA forecasts, chunks of series on `workers` spawned processes
    (`warehouse.executors.ProcessExecutor`); a failed chunk scores as zeros (reported)."""
    from warehouse.executors import ProcessExecutor

    parts = np.array_split(np.arange(rows.size), max(1, min(rows.size, 8 * workers)))
    jobs = [(panel.subset(rows[p]), end, h) for p in parts]
    out = np.zeros((rows.size, h))
    for i, res in ProcessExecutor(workers=workers, progress=False).map(_arima_chunk, jobs):
        if isinstance(res, Exception):
            print(f"AutoARIMA chunk {i} failed: {res}", file=sys.stderr, flush=True)
            continue
        out[parts[i]] = res
    return out


def tsb_tuned(panel, end: int, h: int) -> tuple[np.ndarray, str]:
    """TSB with (alpha_d, alpha_p) picked on the validation window before the cutoff."""
    from statsforecast.models import TSB

    rows = np.arange(panel.n)
    val_actual = panel.y[:, end - h + 1 : end + 1].astype(np.float64)
    best, best_w = (0.1, 0.1), np.inf
    for a_d in (0.05, 0.1, 0.3):
        for a_p in (0.05, 0.1, 0.3):
            fc = statsforecast_fit(panel, end - h, h, TSB(alpha_d=a_d, alpha_p=a_p), rows)
            w = wape(val_actual, fc)
            if w < best_w:
                best, best_w = (a_d, a_p), w
    return (
        statsforecast_fit(panel, end, h, TSB(alpha_d=best[0], alpha_p=best[1]), rows),
        f"alpha_d={best[0]}, alpha_p={best[1]}",
    )


def plain_lightgbm(panel, end: int, h: int) -> np.ndarray:
    """LightGBM with default settings (L2 on raw units, 100 trees) on the same features."""
    import lightgbm as lgb

    from forecasting.features import FEATURE_NAMES, PanelStats, build_features
    from forecasting.models.lgbm import LightGBMConfig, LightGBMGlobal

    model = LightGBMGlobal(LightGBMConfig(horizon=h))
    stats = PanelStats(panel)
    stores, cats = model._codes(panel)
    rows, orig, hor = model.training_rows(panel, end, np.random.default_rng(0))
    x, _ = build_features(panel, stats, rows, orig, hor, stores, cats)
    booster = lgb.train(
        {"verbose": -1, "num_threads": 2},
        lgb.Dataset(x, label=panel.y[rows, orig + hor], feature_name=list(FEATURE_NAMES)),
    )
    series = np.repeat(np.arange(panel.n), h)
    xp, _ = build_features(
        panel,
        stats,
        series,
        np.full(series.size, end),
        np.tile(np.arange(1, h + 1), panel.n),
        stores,
        cats,
    )
    return np.maximum(booster.predict(xp).reshape(panel.n, h), 0.0)


def prophet_fit(panel, end: int, h: int, rows: np.ndarray) -> np.ndarray:
    """Prophet on `rows`, two worker processes (`warehouse.executors.ProcessExecutor`)."""
    from forecasting.models.prophet import ProphetModel

    out = ProphetModel().fit(panel.subset(rows), end).predict(h)
    return np.where(np.isfinite(out), out, 0.0)


def run_case(ds: Dataset, prophet_sample: int | None, arima_sample: int, shift: int = 0) -> dict:
    """Every row of one dataset (cutoff moved back `shift` horizons); returns the numbers."""
    from statsforecast.models import AutoETS

    from forecasting.backtest import _active
    from forecasting.data import STEP_DAYS, load_panel
    from forecasting.engine import AUTO, EngineConfig, forecast_panel

    h = ds.horizon
    step = STEP_DAYS["D" if "daily" in ds.name else "W"]
    until = ds.until - dt.timedelta(days=step * h * shift)
    last = until + dt.timedelta(days=step * h)
    t0, c0 = time.perf_counter(), _cpu_s()
    full = load_panel(ds.db, last, horizon=h, active_days=None)
    end = full.index_of(until)
    panel = _active(full, end, 90 // step)
    res = forecast_panel(panel, end, EngineConfig(horizon=h, prophet_series=0))
    chosen_s, chosen_cpu = time.perf_counter() - t0, _cpu_s() - c0
    actual = panel.y[:, end + 1 : end + 1 + h].astype(np.float64)
    auto = res.forecasts[AUTO]
    lo, hi = auto.interval(80)
    cover = float(((actual >= lo - 1e-9) & (actual <= hi + 1e-9)).mean())
    rng = np.random.default_rng(0)
    every = np.arange(panel.n)
    print(
        f"{ds.name}: {panel.n} series, chosen WAPE {wape(actual, auto.yhat):.3f}, cov80 "
        f"{cover:.3f}, {chosen_s:.1f} s ({chosen_cpu:.1f} CPU s); choice {res.choice}; "
        f"intervals {res.calibration}; lightgbm "
        f"{wape(actual, res.forecasts['lightgbm'].yhat):.3f}",
        file=sys.stderr,
        flush=True,
    )

    def emit(name: str) -> None:
        r, fc, secs, note = rows[name]
        print(
            f"{ds.name}: {name} n={r.size} WAPE {wape(actual[r], fc):.3f} chosen "
            f"{wape(actual[r], auto.yhat[r]):.3f} {secs:.1f} s {note}",
            file=sys.stderr,
            flush=True,
        )

    rows: dict[str, tuple[np.ndarray, np.ndarray, float, str]] = {}
    rows["seasonal naive"] = (every, res.forecasts["seasonal_naive"].yhat, 0.0, "")
    emit("seasonal naive")
    t = time.perf_counter()
    rows["LightGBM default"] = (every, plain_lightgbm(panel, end, h), time.perf_counter() - t, "")
    emit("LightGBM default")
    t = time.perf_counter()
    fc, note = tsb_tuned(panel, end, h)
    rows["TSB (tuned)"] = (every, fc, time.perf_counter() - t, note)
    emit("TSB (tuned)")
    t = time.perf_counter()
    fc = statsforecast_fit(panel, end, h, AutoETS(season_length=panel.season), every)
    rows["AutoETS"] = (every, fc, time.perf_counter() - t, "")
    emit("AutoETS")
    prophet_rows = every
    if prophet_sample and prophet_sample < panel.n and panel.n > 1000:
        prophet_rows = np.sort(rng.choice(panel.n, prophet_sample, replace=False))
    t = time.perf_counter()
    fc = prophet_fit(panel, end, h, prophet_rows)
    note = "all" if prophet_rows.size == panel.n else f"sample {prophet_rows.size}"
    rows["Prophet"] = (prophet_rows, fc, time.perf_counter() - t, note)
    emit("Prophet")
    if arima_sample <= 0 or arima_sample >= panel.n:
        sample, note = every, "all"
    else:
        sample = np.sort(rng.choice(panel.n, arima_sample, replace=False))
        note = f"sample {sample.size}"
    t = time.perf_counter()
    fc = autoarima_parallel(panel, end, h, sample)
    rows["AutoARIMA"] = (sample, fc, time.perf_counter() - t, f"{note}, 2 processes")
    emit("AutoARIMA")
    out = {
        "name": ds.name if not shift else f"{ds.name} to {until}",
        "n": panel.n,
        "h": h,
        "chosen_wape": wape(actual, auto.yhat),
        "cover80_by_model": {
            k: float(
                ((actual >= v.interval(80)[0] - 1e-9) & (actual <= v.interval(80)[1] + 1e-9)).mean()
            )
            for k, v in res.forecasts.items()
            if v.rows.size == panel.n
        },
        "bias": float((auto.yhat - actual).sum() / actual.sum()),
        "cover80": cover,
        "chosen_s": chosen_s,
        "chosen_cpu": chosen_cpu,
        "choice": res.choice,
        "calibration": res.calibration,
        "lightgbm_wape": wape(actual, res.forecasts["lightgbm"].yhat),
        "lightgbm_median_wape": wape(actual, res.forecasts["lightgbm_median"].yhat),
        "peers": [],
    }
    for name, (r, fc, secs, note) in rows.items():
        out["peers"].append(
            {
                "peer": name,
                "n": int(r.size),
                "peer_wape": wape(actual[r], fc),
                "chosen_wape": wape(actual[r], auto.yhat[r]),
                "seconds": secs,
                "note": note,
            }
        )
    return out


def speed(ds: Dataset, work: Path, sample: int) -> None:
    """OR II daily only: `forecasting run` end to end (a subprocess on a copy of the warehouse:
    wall and CPU seconds), then Prophet and AutoETS on the same seeded sample of `sample`
    series, timed after an untimed warm-up on 2 series (imports, numba compilation), their
    per-series cost projected to every series (printed as a projection)."""
    import shutil

    from statsforecast.models import AutoETS

    from forecasting.backtest import _active
    from forecasting.data import load_panel

    db = work / "speed.duckdb"
    shutil.copyfile(ds.db, db)
    load0 = os.getloadavg()
    cmd = [sys.executable, "-m", "forecasting", "--db", str(db), "run"]
    cmd += ["--until", ds.until.isoformat(), "--horizon", str(ds.horizon)]
    t0, c0 = time.perf_counter(), _cpu_s()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parents[1])
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    if done.returncode != 0:
        raise SystemExit(f"forecasting run failed: {done.stderr[-1500:]}")
    print(done.stdout.strip().splitlines()[-1][:300])
    full = load_panel(ds.db, ds.until, horizon=ds.horizon, active_days=None)
    end = full.index_of(ds.until)
    panel = _active(full, end, 90)
    rows = np.sort(np.random.default_rng(0).choice(panel.n, min(sample, panel.n), replace=False))
    ets = AutoETS(season_length=panel.season)
    prophet_fit(panel, end, ds.horizon, rows[:2])  # warm-up, untimed: imports and compilation
    statsforecast_fit(panel, end, ds.horizon, ets, rows[:2])
    t = time.perf_counter()
    prophet_fit(panel, end, ds.horizon, rows)
    prophet_s = time.perf_counter() - t
    t = time.perf_counter()
    statsforecast_fit(panel, end, ds.horizon, ets, rows)
    ets_s = time.perf_counter() - t
    per = panel.n / rows.size
    print(f"\n{ds.name}: {panel.n} series, h={ds.horizon}, {_pin()} cores")
    print(f"load average {load0[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(f"{'what':<52}{'wall s':>9}{'CPU s':>9}")
    print(f"{'forecasting run, end to end (measured, all series)':<52}{wall:>9.1f}{cpu:>9.1f}")
    for name, secs in (("Prophet (2 processes)", prophet_s), ("AutoETS (1 process)", ets_s)):
        print(f"{name + f', {rows.size} series (measured)':<52}{secs:>9.1f}")
        print(f"{name + f', {panel.n} series (projection)':<52}{secs * per:>9.1f}")
    print(f"goal: forecasting run <= 60 s on 2 cores: {'MET' if wall <= 60 else 'MISSED'}")


def _print(r: dict) -> None:
    for p in r["peers"]:
        print(
            f"{r['name']:<34}{p['peer']:<18}{p['n']:>7}{p['peer_wape']:>10.3f}"
            f"{p['chosen_wape']:>8.3f}{p['chosen_wape'] / p['peer_wape']:>7.2f}"
            f"{p['seconds']:>8.1f}  {p['note']}"
        )
    best = min(p["peer_wape"] / p["chosen_wape"] for p in r["peers"])
    met = 1 / best <= 0.95 and abs(r["cover80"] - 0.80) <= 0.03
    print(
        f"{r['name']:<34}{'CHOSEN':<18}{r['n']:>7}{'':>10}{r['chosen_wape']:>8.3f}"
        f"{1 / best:>7.2f}{r['chosen_s']:>8.1f}  {'GOAL MET' if met else 'GOAL MISSED'}: "
        f"worst ratio vs a peer (goal <= 0.95); 80% coverage (goal 0.77-0.83) "
        f"{r['cover80']:.3f}; bias {r['bias']:+.3f}; lightgbm {r['lightgbm_wape']:.3f}, "
        f"lightgbm_median {r['lightgbm_median_wape']:.3f}"
    )
    print(
        f"{'':<34}chosen end to end {r['chosen_s']:.1f} s wall, {r['chosen_cpu']:.1f} CPU s;"
        f" choice {r['choice']}"
    )
    print(f"{'':<34}intervals: {r['calibration']}", flush=True)


def _case_args(base: list[str], case: int, arima_sample: int) -> list[str]:
    """The command line of one case's own process."""
    return [*base, "--arima-sample", str(arima_sample), "--case", str(case)]


def main() -> None:
    """Build the warehouses, run every case (each in its own process), print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/shelfwise-bench-forecast"))
    parser.add_argument(
        "--prophet-sample",
        type=int,
        default=None,
        help="Prophet on a seeded random sample of this many series of each dataset with over "
        "1,000 series (every series of the others)",
    )
    parser.add_argument(
        "--arima-sample",
        default="100",
        help="AutoARIMA series per dataset (0 = all); one number, or one per --cases entry "
        "(e.g. 300,100,0)",
    )
    parser.add_argument(
        "--cases",
        default="0,1,2",
        help="datasets to run: 0 OR II daily, 1 store-item, 2 OR II weekly",
    )
    parser.add_argument(
        "--speed",
        type=int,
        metavar="N",
        help="only time OR II daily: `forecasting run` end to end, and Prophet and AutoETS on "
        "a seeded sample of N series projected to all",
    )
    parser.add_argument("--parallel", action="store_true", help="run the cases concurrently")
    parser.add_argument(
        "--shift", type=int, default=0, help="move every cutoff back this many horizons"
    )
    parser.add_argument("--json", type=Path, help="write every case's numbers here")
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cores = _pin()
    datasets = build(
        args.work,
        SHARED / "online-retail-ii-2009-2010" / "online_retail_II.parquet",
        SHARED / "store-item-demand" / "demand-forecasting-kernels-only.zip",
    )
    if args.speed:
        speed(datasets[0], args.work, args.speed)
        return
    if args.case is not None:
        r = run_case(datasets[args.case], args.prophet_sample, int(args.arima_sample), args.shift)
        print(json.dumps(r, default=str))
        return
    load = os.getloadavg()[0]
    cases = [int(c) for c in args.cases.split(",")]
    arima = [int(a) for a in args.arima_sample.split(",")]
    if len(arima) not in (1, len(cases)):
        raise SystemExit("--arima-sample: one number, or one per --cases entry")
    arima_of = dict(zip(cases, arima * len(cases) if len(arima) == 1 else arima, strict=True))
    base = [sys.executable, __file__, "--work", str(args.work), "--shift", str(args.shift)]
    if args.prophet_sample:
        base += ["--prophet-sample", str(args.prophet_sample)]
    jobs = (
        [
            subprocess.Popen(_case_args(base, i, arima_of[i]), stdout=subprocess.PIPE, text=True)
            for i in cases
        ]
        if args.parallel
        else []
    )
    results = []
    for k, i in enumerate(cases):
        proc = (
            jobs[k]
            if jobs
            else subprocess.Popen(
                _case_args(base, i, arima_of[i]), stdout=subprocess.PIPE, text=True
            )
        )
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"case {datasets[i].name} failed")
        results.append(json.loads(out.strip().splitlines()[-1]))
    print(
        f"\n{cores} cores per case (load average {load:.1f} at the start"
        f"{', cases run concurrently' if args.parallel else ''}); WAPE on the periods after "
        "each cutoff; ratio = chosen / peer"
    )
    print(
        f"{'dataset':<34}{'peer':<18}{'series':>7}{'peer WAPE':>10}{'chosen':>8}{'ratio':>7}"
        f"{'peer s':>8}  note"
    )
    for r in results:
        _print(r)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(
        "CHOSEN seconds = end to end (load + every candidate model fitted twice + intervals + "
        "choice)"
    )


if __name__ == "__main__":
    main()
