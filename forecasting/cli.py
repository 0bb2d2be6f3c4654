"""`python -m forecasting ...`: forecasts (run, backtest, export) and inventory (plan, simulate).

Subcommands are registered by `forecasting.forecast_cli` and `forecasting.inventory_cli`, each
exposing `register(subparsers)`; a parsed command carries its handler in `args.handler`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from warehouse.db import WarehouseError, resolve_db_path

COMMAND_MODULES: tuple[str, ...] = ("forecasting.forecast_cli", "forecasting.inventory_cli")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m forecasting",
        description="Shelfwise demand forecasts and inventory optimizer.",
    )
    parser.add_argument(
        "--db", help="warehouse file (default $SHELFWISE_DB or data/shelfwise.duckdb)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
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
