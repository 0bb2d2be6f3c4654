"""`python -m services pipeline|users`: the refresh pipeline and the app's sign-in users."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext

from tqdm import tqdm

from services.auth import users_cli
from warehouse.cli_common import finish_parser
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
    pipe = sub.add_parser(
        "pipeline",
        help="re-run the steps whose inputs changed: train, recommend, forecast, plan",
        description="Re-runs exactly the steps whose inputs (sales, stock, supply, promotions, "
        "the served model, the latest forecast) changed since their output was made, and says "
        "why for each. Steps the warehouse's data cannot feed (no customer ids: no "
        "recommendations; too short a history: no forecasts or replay) are skipped "
        "with the reason, and the others still run. Safe to run nightly (see README, "
        "'Nightly refresh').",
    )
    how = pipe.add_mutually_exclusive_group()
    how.add_argument("--if-missing", action="store_true", help="only steps whose output is missing")
    how.add_argument("--force", action="store_true", help="run every step")
    users = sub.add_parser("users", help="manage app sign-in users (see services.auth)")
    users.add_argument(
        "users_args", nargs=argparse.REMAINDER, help="add NAME --role R | list | remove NAME"
    )
    finish_parser(parser, EXAMPLES)
    return parser


#: One example per sub-command, shown by `--help`.
EXAMPLES = {
    "pipeline": "python -m services pipeline --db data/online_retail.duckdb",
    "users": "python -m services users add alice --role analyst",
}


#: What each pipeline step is doing, said before it starts (`make run` is otherwise silent).
STEP_NOTES: dict[str, str] = {
    "recsys train": "training the recommendation model (two-tower, a few epochs)",
    "recsys export": "writing the top-20 recommendations of every customer",
    "forecast run": "forecasting demand for every store x product",
    "forecast backtest summary": "scoring the forecasts on the last weeks (backtest)",
    "inventory plan": "planning today's orders from the forecasts",
    "inventory simulate": "replaying the ordering policy to check service levels",
}


class _StepProgress:
    """A tqdm bar over the pipeline steps that names each step and its time."""

    def __enter__(self) -> _StepProgress:
        self.bar = tqdm(total=0, desc="pipeline", unit="step", position=0, leave=True)
        self.started = time.monotonic()
        self.current: str | None = None
        return self

    def __call__(self, name: str, done: int, total: int) -> None:
        now = time.monotonic()
        if self.current is not None:
            tqdm.write(f"  {self.current}: finished in {now - self.started:,.0f} s")
        self.bar.total = total
        self.bar.n = done
        self.bar.set_postfix_str(name)
        self.bar.refresh()
        self.current, self.started = (None if name == "done" else name), now
        if name != "done":
            tqdm.write(f"[{done + 1}/{total}] {name}: {STEP_NOTES.get(name, 'running')}...")

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 2 user error)."""
    args = _parser().parse_args(argv)
    if args.command == "users":
        return users_cli(list(args.users_args))
    if args.quiet:  # for child processes; bars of this one are told (tqdm read it at import)
        os.environ["TQDM_DISABLE"] = "1"
    # imported here, not at the top: the pipeline pulls in torch, scipy and prophet (about
    # 7 s), which `users` commands do not need
    from services.pipeline import run_pipeline

    try:
        with nullcontext(None) if args.quiet else _StepProgress() as progress:
            lines = run_pipeline(
                resolve_db_path(args.db),
                if_missing=args.if_missing,
                force=args.force,
                progress=progress,
                bars=not args.quiet,
            )
        for line in lines:
            print(line)
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the warehouse is unchanged", file=sys.stderr)
        return 130
    return 0
