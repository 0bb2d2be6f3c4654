"""`python -m forecasting ...`: forecasts (run, backtest, export) here, inventory (plan, simulate)
from `forecasting.inventory.cli`; also the forecast pipeline steps."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from forecasting.backtest import BacktestConfig, BacktestReport, run_backtest
from forecasting.engine import DEFAULT_MODELS, PROPHET_ALL, EngineConfig
from forecasting.export import export_forecasts
from forecasting.inventory import cli as inventory_cli
from forecasting.run import RunConfig, run_forecast
from warehouse.db import (
    WarehouseError,
    execute,
    reading,
    resolve_db_path,
    sql_text,
    table_exists,
    writing,
)
from warehouse.pipeline import PipelineStep


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


def _models(text: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in text.split(",") if m.strip())


def _prophet(text: str) -> int:
    if text.strip().lower() == "all":
        return PROPHET_ALL
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--prophet {text!r}: expected a count or 'all'") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"--prophet {text!r}: expected a count >= 0 or 'all'")
    return value


def _engine_args(p: argparse.ArgumentParser, horizon: int) -> None:
    p.add_argument("--horizon", type=int, default=horizon, help="periods ahead")
    p.add_argument("--levels", type=int, nargs="+", default=[80, 95], help="interval levels (%%)")
    p.add_argument(
        "--models",
        type=_models,
        default=DEFAULT_MODELS,
        help="comma-separated models run on every series",
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
    ex.set_defaults(handler=_cmd_export)


def _engine(args: argparse.Namespace) -> EngineConfig:
    return EngineConfig(
        horizon=args.horizon,
        levels=tuple(args.levels),
        models=args.models,
        prophet_series=args.prophet_series,
    )


def _quiet() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _cmd_run(db: Path, args: argparse.Namespace) -> int:
    _quiet()
    summary = run_forecast(
        db,
        RunConfig(until=args.until, active_days=args.active_days, engine=_engine(args)),
        progress=True,
    )
    print(
        f"forecast run {summary['run_id']}: {summary['n_series']:,} series x "
        f"{summary['horizon']} periods after {summary['until']} ({summary['rows']:,} rows); "
        f"models used: {', '.join(summary['models'])}; choice per segment: {summary['choice']}; "
        f"intervals: {summary['calibration']}; LightGBM saved as {summary['model_version']}"
    )
    return 0


def print_report(report: BacktestReport) -> None:
    """The backtest table, one block per frequency."""
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


def save_backtest(db: Path, report: BacktestReport, cfg: BacktestConfig) -> None:
    """Replace `backtest_results` with this report (atomic)."""
    frame = report.table.with_columns(
        pl.lit(cfg.until).alias("until"),
        pl.lit(cfg.engine.horizon).alias("horizon"),
        pl.lit(cfg.windows).alias("windows"),
        pl.lit(dt.datetime.now(dt.UTC).replace(tzinfo=None)).alias("created_at"),
    )
    with writing(db) as con:
        con.execute(sql_text("forecasting/create_tables")).fetchall()
        con.register("_new_backtest", frame.to_arrow())
        for statement in sql_text("forecasting/replace_backtest").split(";"):
            if statement.strip():
                execute(con, statement)
        con.unregister("_new_backtest")


def _cmd_backtest(db: Path, args: argparse.Namespace) -> int:
    _quiet()
    cfg = BacktestConfig(
        until=args.until, windows=args.windows, active_days=args.active_days, engine=_engine(args)
    )
    report = run_backtest(db, cfg)
    print_report(report)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report.to_json(), indent=1, default=str))
        print(f"wrote {args.json_path}")
    if not args.no_save:
        save_backtest(db, report, cfg)
    return 0


def _cmd_export(db: Path, args: argparse.Namespace) -> int:
    rows = export_forecasts(db, args.out)
    print(f"wrote {rows:,} forecast rows to {args.out}")
    return 0


def _has_rows(db: Path, table: str) -> bool:
    if not Path(db).exists():
        return False
    with reading(db) as con:
        if not table_exists(con, table):
            return False
        return bool(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _pipeline_run(db: Path) -> None:
    _quiet()
    run_forecast(db, RunConfig(engine=EngineConfig(horizon=28, prophet_series=10)))


def _pipeline_backtest(db: Path) -> None:
    """One window ending `horizon` periods before the last sale (so actuals exist)."""
    _quiet()
    with reading(db) as con:
        last = con.execute("SELECT max(sale_date) FROM fct_sales_daily").fetchall()[0][0]
    from forecasting.data import STEP_DAYS, warehouse_frequency

    h = 28 if warehouse_frequency(db) == "D" else 8
    until = last - dt.timedelta(days=STEP_DAYS[warehouse_frequency(db)] * h)
    cfg = BacktestConfig(until=until, windows=1, engine=EngineConfig(horizon=h, prophet_series=10))
    save_backtest(db, run_backtest(db, cfg, progress=False), cfg)


PIPELINE_STEPS: list[PipelineStep] = [
    PipelineStep("forecast run", lambda db: _has_rows(db, "forecasts"), _pipeline_run),
    PipelineStep(
        "forecast backtest summary",
        lambda db: _has_rows(db, "backtest_results"),
        _pipeline_backtest,
    ),
]


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 user error)."""
    args = _parser().parse_args(argv)
    db = resolve_db_path(args.db)
    try:
        return int(args.handler(db, args) or 0)
    except (WarehouseError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130


__all__ = ["PIPELINE_STEPS", "main", "register"]
