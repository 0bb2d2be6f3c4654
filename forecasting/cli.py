"""`python -m forecasting ...`: forecasts (run, backtest, export) here, inventory (plan, simulate)
from `forecasting.inventory.cli`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from forecasting.inventory import cli as inventory_cli
from forecasting.runs import register as register_runs
from warehouse.cli_common import finish_parser
from warehouse.db import (
    WarehouseError,
    resolve_db_path,
)
from warehouse.executors import add_executor_option, open_executor

if TYPE_CHECKING:
    from forecasting.backtest import BacktestReport
    from forecasting.engine import EngineConfig

# The engine (LightGBM, pandas, Prophet) is imported by the commands that forecast, not at start:
# `plan`, `simulate`, `export`, `runs` and `--help` start in a fraction of the time.


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _models(text: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in text.split(",") if m.strip())


def _prophet(text: str) -> int:
    if text.strip().lower() == "all":
        from forecasting.engine import PROPHET_ALL

        return PROPHET_ALL
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--prophet {text!r}: expected a count or 'all'") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"--prophet {text!r}: expected a count >= 0 or 'all'")
    return value


def _engine_args(p: argparse.ArgumentParser, horizon: int) -> None:
    add_executor_option(p)
    p.add_argument("--horizon", type=int, default=horizon, help="periods ahead")
    p.add_argument("--levels", type=int, nargs="+", default=[80, 95], help="interval levels (%%)")
    p.add_argument(
        "--models",
        type=_models,
        default=None,
        help="comma-separated models run on every series (default: every built-in model)",
    )
    p.add_argument(
        "--prophet-series",
        "--prophet",
        dest="prophet_series",
        type=_prophet,
        default=20,
        help="smooth series that also get Prophet (0 = none, 'all' = every series, in parallel)",
    )
    p.add_argument(
        "--active-days",
        type=int,
        default=90,
        help="forecast series that sold in this many days before the cutoff",
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `run`, `backtest` and `export` to the `python -m forecasting` parser."""
    run = subparsers.add_parser("run", help="forecast every active store x product")
    run.add_argument("--until", type=_date, help="last day of history (default: last sale)")
    _engine_args(run, 28)
    run.set_defaults(handler=_cmd_run)

    bt = subparsers.add_parser("backtest", help="rolling-origin backtest of every model")
    bt.add_argument("--until", type=_date, required=True, help="cutoff of the last window")
    bt.add_argument("--windows", type=int, default=2, help="rolling origins, horizon apart")
    bt.add_argument("--json", dest="json_path", help="also write the report as JSON here")
    bt.add_argument("--no-save", action="store_true", help="do not write backtest_results")
    _engine_args(bt, 28)
    bt.set_defaults(handler=_cmd_backtest)

    ex = subparsers.add_parser("export", help="write the latest forecasts to a file")
    ex.add_argument("--out", required=True, help="FILE.csv, FILE.xlsx or FILE.parquet")
    ex.add_argument(
        "--raw-csv",
        action="store_true",
        help="CSV cells as they are (no ' before =, +, -, @): for programs",
    )
    ex.set_defaults(handler=_cmd_export)


def _engine(args: argparse.Namespace) -> EngineConfig:
    from forecasting.engine import DEFAULT_MODELS, EngineConfig

    return EngineConfig(
        horizon=args.horizon,
        levels=tuple(args.levels),
        models=DEFAULT_MODELS if args.models is None else args.models,
        prophet_series=args.prophet_series,
    )


def _cmd_run(db: Path, args: argparse.Namespace) -> int:
    from forecasting.refresh import quiet_logging
    from forecasting.run import RunConfig, run_forecast

    quiet_logging()
    with open_executor(args.executor, progress=not args.quiet) as executor:
        summary = run_forecast(
            db,
            RunConfig(until=args.until, active_days=args.active_days, engine=_engine(args)),
            progress=not args.quiet,
            executor=executor,
        )
    models = cast(list[str], summary["models"])
    print(
        f"forecast run {summary['run_id']}: {summary['n_series']:,} series x "
        f"{summary['horizon']} periods after {summary['until']} ({summary['rows']:,} rows); "
        f"models used: {', '.join(models)}; choice per segment: {summary['choice']}; "
        f"intervals: {summary['calibration']}; LightGBM saved as {summary['model_version']}"
    )
    return 0


def print_report(report: BacktestReport) -> None:
    """The backtest table, one block per frequency."""
    import polars as pl

    with pl.Config(
        tbl_rows=500,
        tbl_cols=20,
        tbl_width_chars=200,
        float_precision=3,
        tbl_hide_dataframe_shape=True,
    ):
        print(report.table)
    for w in report.windows:
        print(f"window cutoff {w['cutoff']}: {w['n_series']} series; chosen {w['choice']}")


def _cmd_backtest(db: Path, args: argparse.Namespace) -> int:
    from forecasting.backtest import BacktestConfig, run_backtest, save_backtest
    from forecasting.refresh import quiet_logging

    quiet_logging()
    cfg = BacktestConfig(
        until=args.until, windows=args.windows, active_days=args.active_days, engine=_engine(args)
    )
    with open_executor(args.executor, progress=not args.quiet) as executor:
        report = run_backtest(db, cfg, progress=not args.quiet, executor=executor)
    print_report(report)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report.to_json(), indent=1, default=str))
        print(f"wrote {args.json_path}")
    if not args.no_save:
        save_backtest(db, report, cfg)
    return 0


def _cmd_export(db: Path, args: argparse.Namespace) -> int:
    from forecasting.export import export_forecasts

    rows = export_forecasts(db, args.out, raw_csv=args.raw_csv)
    print(f"wrote {rows:,} forecast rows to {args.out}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m forecasting",
        description="Shelfwise demand forecasts and inventory optimizer.",
    )
    parser.add_argument(
        "--db", help="warehouse file (default $SHELFWISE_DB or data/shelfwise.duckdb)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    inventory_cli.register(sub)
    register_runs(sub)
    finish_parser(parser, EXAMPLES)
    return parser


#: One example per sub-command, shown by `--help`.
EXAMPLES = {
    "run": "python -m forecasting run --horizon 28 --db data/shelfwise.duckdb",
    "backtest": "python -m forecasting backtest --until 2026-05-31 --windows 3",
    "export": "python -m forecasting export --out forecasts.csv",
    "plan": "python -m forecasting plan --service-level 0.95 --export purchase_orders.xlsx",
    "simulate": "python -m forecasting simulate --until 2026-07-31 --days 90",
    "runs": "python -m forecasting runs --vs-actuals --store S01",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 user error)."""
    args = _parser().parse_args(argv)
    db = resolve_db_path(args.db)
    if args.quiet:  # for child processes: tqdm reads it at import, so bars here are told
        os.environ["TQDM_DISABLE"] = "1"
    try:
        return int(args.handler(db, args) or 0)
    except (WarehouseError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


__all__ = ["main", "register"]
