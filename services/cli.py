"""`python -m services pipeline|users`: the refresh pipeline and the app's sign-in users."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from services.auth import users_cli
from services.pipeline import run_pipeline
from warehouse.db import WarehouseError, resolve_db_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services",
        description="Shelfwise services: the refresh pipeline and app sign-in users.",
    )
    parser.add_argument(
        "--db", help="warehouse file (default $SHELFWISE_DB or data/shelfwise.duckdb)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    pipe = sub.add_parser("pipeline", help="train recommendations, forecast and plan orders")
    pipe.add_argument(
        "--if-missing", action="store_true", help="only steps whose output is missing"
    )
    users = sub.add_parser("users", help="manage app sign-in users (see services.auth)")
    users.add_argument(
        "users_args", nargs=argparse.REMAINDER, help="add NAME --role R | list | remove NAME"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 2 user error)."""
    args = _parser().parse_args(argv)
    if args.command == "users":
        return users_cli(list(args.users_args))
    try:
        for line in run_pipeline(resolve_db_path(args.db), if_missing=args.if_missing):
            print(line)
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the warehouse is unchanged", file=sys.stderr)
        return 130
    return 0
