"""`python -m recsys train|evaluate|export|recommend|status|versions|pin|unpin`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from recsys.data import parse_date
from recsys.errors import RecsysError
from warehouse.cli_common import finish_parser
from warehouse.db import WarehouseError, resolve_db_path
from warehouse.executors import add_executor_option, open_executor
from warehouse.paths import artifacts_dir

if TYPE_CHECKING:
    from recsys.train import TwoTowerConfig

# torch and LightGBM are imported by the commands that train, evaluate or rank, not at start:
# `status`, `versions`, `pin`, `unpin` and `--help` start in a fraction of the time.


def _two_tower_config(args: argparse.Namespace) -> TwoTowerConfig:
    from recsys.train import TwoTowerConfig

    epochs = TwoTowerConfig.epochs if args.epochs is None else args.epochs
    return TwoTowerConfig(epochs=epochs, seed=args.seed, show_progress=not args.quiet)


def _cmd_train(db: Path, args: argparse.Namespace) -> None:
    from recsys.refresh import train_and_register

    start = time.perf_counter()
    path = train_and_register(
        db,
        parse_date(args.until),
        not args.quiet,
        _two_tower_config(args),
        workers=args.workers,
    )
    manifest = json.loads((path / "manifest.json").read_text())
    print(
        f"trained {manifest['model']} version {manifest['version']} in "
        f"{time.perf_counter() - start:.0f} s -> {path}"
    )
    for epoch in manifest["metrics"]["epochs"]:
        print(
            "  "
            + ", ".join(
                f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in epoch.items()
            )
        )


def _cmd_evaluate(db: Path, args: argparse.Namespace) -> None:
    from recsys.blend import BlendRecommender
    from recsys.evaluate import (
        EvalConfig,
        default_models,
        format_table,
        make_split,
        run_evaluation,
        write_report,
    )
    from recsys.train import TwoTowerRecommender

    until = parse_date(args.until) or parse_date(args.as_of, "--as-of")
    if until is None:
        raise RecsysError("evaluate: give --until DATE or --as-of DATE")
    cfg = EvalConfig(
        until=until,
        k=args.k,
        horizon_days=args.horizon_days,
        max_users=args.max_users,
        seed=args.seed,
    )
    split = make_split(db, cfg)
    print(
        f"{db}: train on sales through {until} ({split.train.n_users:,} customers, "
        f"{split.train.events.height:,} purchases), test {split.test_start}..{split.test_end}, "
        f"{split.users.size:,} customers, ranking all {split.train.n_items:,} products"
    )
    models = default_models(_two_tower_config(args))
    rows = run_evaluation(split, models, args.k)
    if args.as_of:  # the registry's lists exactly as `export --as-of` serves them
        from recsys.evaluate import evaluate_served

        rows += evaluate_served(db, split, args.k, until)
    print(format_table(rows, args.k))
    out = (
        Path(args.json)
        if args.json
        else (artifacts_dir(db, "recsys") / "evaluations" / f"eval-{until}-k{args.k}.json")
    )
    extra = {
        "blend_tuning": {
            m.name: {"ease_weight": m.ease_weight, "grid": m.tuning}
            for m in models
            if isinstance(m, BlendRecommender) and m.tuning
        },
        "two_tower_epochs": next(m.history for m in models if isinstance(m, TwoTowerRecommender)),
    }
    write_report(out, cfg, split, rows, extra)
    print(f"\nwrote {out}")


def _rules(args: argparse.Namespace) -> Any:
    from recsys.service import BusinessRules

    return BusinessRules(
        exclude_purchased=args.exclude_purchased,
        in_stock_only=args.in_stock_only,
        include_categories=tuple(args.category or ()),
        exclude_categories=tuple(args.exclude_category or ()),
        min_price=args.min_price,
        max_price=args.max_price,
        allow_list=tuple(args.allow or ()),
        block_list=tuple(args.block or ()),
        max_per_category=args.max_per_category,
    )


def _pseudonymise(frame: pl.DataFrame) -> pl.DataFrame:
    """customer_id replaced by a keyed hash (key from `warehouse.privacy.load_key`)."""
    from warehouse.privacy import pseudonymise_frame

    return pseudonymise_frame(frame, columns=("customer_id",))


def _cmd_export(db: Path, args: argparse.Namespace) -> None:
    from recsys.export import FORMATS, read_customer_file, write_file, write_table
    from recsys.service import bulk_recommendations
    from warehouse.files import OutputPathError, check_output_path

    suffix = Path(args.out).suffix.lower()
    if suffix not in FORMATS:  # fail before the work, not after it
        raise RecsysError(
            f"--out {args.out}: unsupported format {suffix or '(none)'}; "
            f"use one of {', '.join(FORMATS)}"
        )
    try:
        check_output_path(args.out, flag="--out")
    except OutputPathError as exc:
        raise RecsysError(str(exc)) from None
    customers = read_customer_file(args.customers) if args.customers else None
    start = time.perf_counter()
    with open_executor(args.executor, progress=not args.quiet) as executor:
        frame = bulk_recommendations(
            db,
            customers,
            args.segment,
            args.k,
            _rules(args),
            progress=not args.quiet,
            as_of=parse_date(args.as_of, "--as-of"),
            executor=executor,
        )
    seconds = time.perf_counter() - start
    n_customers = frame["customer_id"].n_unique()
    table_frame = frame
    if args.pseudonymise:
        frame = _pseudonymise(frame)
    path = write_file(frame, args.out, raw_csv=args.raw_csv)
    print(
        f"wrote {frame.height:,} rows for {n_customers:,} customers to {path} "
        f"({n_customers / max(seconds, 1e-9):,.0f} customers/s)"
    )
    if not args.no_table:
        write_table(db, table_frame)
        print(f"replaced table recommendations in {db}")


def _cmd_recommend(db: Path, args: argparse.Namespace) -> None:
    from recsys import service

    with pl.Config(tbl_rows=100, fmt_str_lengths=60, tbl_width_chars=200):
        as_of = parse_date(args.as_of, "--as-of")
        if args.similar:
            print(service.similar_products(db, args.similar, args.k))
        elif args.basket:
            print(
                service.complete_basket(
                    db, args.basket.split(","), args.k, _rules(args), as_of=as_of
                )
            )
        elif args.customer:
            print(
                service.recommend_for_customer(db, args.customer, args.k, _rules(args), as_of=as_of)
            )
        else:
            raise RecsysError("recommend: give a CUSTOMER, --basket P1,P2 or --similar P")


def latest_manifest_of(db: Path) -> dict[str, Any] | None:
    """The served version's manifest (pin-aware)."""
    from recsys.manifest import latest_manifest

    return latest_manifest(db)


def _cmd_status(db: Path, args: argparse.Namespace) -> None:
    from recsys.manifest import model_status
    from recsys.pin import read_pin

    status = model_status(db)
    if status:
        status["pinned"] = read_pin(db) is not None
        status["data_generation"] = (latest_manifest_of(db) or {}).get("data_generation")
    print(
        json.dumps(status, indent=2, default=str)
        if status
        else "no trained model: run `python -m recsys train`"
    )


def _cmd_versions(db: Path, args: argparse.Namespace) -> None:
    from recsys.versions import versions_frame

    frame = versions_frame(db)
    if frame.height == 0:
        print("no model versions: run `python -m recsys train`")
        return
    with pl.Config(
        tbl_rows=100,
        tbl_cols=-1,
        tbl_width_chars=250,
        fmt_str_lengths=60,
        tbl_hide_dataframe_shape=True,
    ):
        print(frame)


def _cmd_pin(db: Path, args: argparse.Namespace) -> None:
    from recsys.versions import pin_version

    manifest = pin_version(db, args.version)
    print(
        f"pinned version {args.version} (trained {manifest.get('trained_at')}): serving, "
        "exports and status use it until `python -m recsys unpin`"
    )


def _cmd_unpin(db: Path, args: argparse.Namespace) -> None:
    from recsys.versions import unpin

    was = unpin(db)
    print(
        f"unpinned version {was}: serving the newest good version"
        if was is not None
        else "no pin: serving the newest good version"
    )


def _add_rule_options(parser: argparse.ArgumentParser, exclude_default: bool) -> None:
    parser.add_argument(
        "--exclude-purchased",
        action=argparse.BooleanOptionalAction,
        default=exclude_default,
        help="drop items the customer already bought",
    )
    parser.add_argument("--in-stock-only", action="store_true")
    parser.add_argument("--category", action="append", help="only this category (repeatable)")
    parser.add_argument("--exclude-category", action="append")
    parser.add_argument("--min-price", type=float)
    parser.add_argument("--max-price", type=float)
    parser.add_argument("--allow", action="append", help="allowed product id (repeatable)")
    parser.add_argument("--block", action="append", help="blocked product id (repeatable)")
    parser.add_argument("--max-per-category", type=int)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m recsys", description="Shelfwise recommendations."
    )
    parser.add_argument("--db", help="warehouse (default $SHELFWISE_DB or data/shelfwise.duckdb)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train and register a new model version")
    evaluate = sub.add_parser("evaluate", help="time-split evaluation against the baselines")
    for p in (train, evaluate):
        p.add_argument(
            "--epochs",
            type=int,
            default=None,
            help="two-tower training epochs (default: the model's own)",
        )
        p.add_argument("--seed", type=int, default=0)
    train.add_argument("--until", help="use sales on or before this date (YYYY-MM-DD)")
    train.add_argument(
        "--workers",
        type=int,
        default=1,
        help="train the two-tower in N processes with torch DDP (gloo on CPU, 127.0.0.1)",
    )
    evaluate.add_argument("--until", help="train through this date")
    evaluate.add_argument(
        "--as-of",
        help="train through this date and also score the "
        "registry's lists served as of it (export --as-of)",
    )
    evaluate.add_argument("--k", type=int, default=20)
    evaluate.add_argument("--horizon-days", type=int, default=30, help="length of the test period")
    evaluate.add_argument("--max-users", type=int, help="evaluate a random sample of customers")
    evaluate.add_argument("--json", help="where to write the JSON report")
    export = sub.add_parser("export", help="lists for many customers to a file and the table")
    export.add_argument("--k", type=int, default=20)
    export.add_argument("--customers", help="file of customer ids (one per line or CSV column)")
    export.add_argument("--segment", help="dim_customer segment")
    export.add_argument("--out", required=True, help="FILE.csv, FILE.xlsx or FILE.parquet")
    export.add_argument("--no-table", action="store_true", help="do not write the warehouse table")
    export.add_argument(
        "--raw-csv",
        action="store_true",
        help="CSV cells as they are (no ' before =, +, -, @): for programs",
    )
    export.add_argument(
        "--pseudonymise",
        action="store_true",
        help="keyed-hash customer ids in the file (warehouse.privacy key)",
    )
    _add_rule_options(export, exclude_default=False)
    add_executor_option(export)
    export.add_argument("--as-of", help="histories and features cut at this date (YYYY-MM-DD)")
    rec = sub.add_parser("recommend", help="one customer's list, a basket, or similar products")
    rec.add_argument("customer", nargs="?")
    rec.add_argument("--k", type=int, default=10)
    rec.add_argument("--basket", help="comma-separated product ids (complete the basket)")
    rec.add_argument("--similar", help="a product id (similar products)")
    _add_rule_options(rec, exclude_default=True)
    rec.add_argument("--as-of", help="histories and features cut at this date (YYYY-MM-DD)")
    sub.add_parser("status", help="the served model version (the pinned one, else the newest)")
    sub.add_parser("versions", help="every model version: trained at, data, metrics, status")
    pin = sub.add_parser("pin", help="serve this version (rollback) until `unpin`")
    pin.add_argument("version", type=int)
    sub.add_parser("unpin", help="serve the newest good version again")
    for choice in sub.choices.values():  # `--quiet` also accepted after the sub-command
        choice.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS)
    finish_parser(parser, EXAMPLES)
    return parser


#: One example per sub-command, shown by `--help`.
EXAMPLES = {
    "train": "python -m recsys train --epochs 5 --db data/shelfwise.duckdb",
    "evaluate": "python -m recsys evaluate --until 2010-09-30 --k 20",
    "export": "python -m recsys export --segment champions --out champions.csv",
    "recommend": "python -m recsys recommend 13085 --k 10",
    "status": "python -m recsys status",
    "versions": "python -m recsys versions",
    "pin": "python -m recsys pin 3",
    "unpin": "python -m recsys unpin",
}

COMMANDS = {
    "train": _cmd_train,
    "evaluate": _cmd_evaluate,
    "export": _cmd_export,
    "recommend": _cmd_recommend,
    "status": _cmd_status,
    "versions": _cmd_versions,
    "pin": _cmd_pin,
    "unpin": _cmd_unpin,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m recsys`; returns the exit code (0 ok, 1 on a clear error)."""
    args = _parser().parse_args(argv)
    db = resolve_db_path(args.db)
    if args.quiet:
        os.environ["TQDM_DISABLE"] = "1"
    try:
        COMMANDS[args.command](db, args)
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
