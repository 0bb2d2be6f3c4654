"""`python -m warehouse ...`: build the demo, ingest real data, query, inspect."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from warehouse.cli_common import finish_parser
from warehouse.db import WarehouseError, reading, resolve_db_path

#: Sub-commands that moved to `python -m services` (the warehouse never imports upward).
MOVED_COMMANDS: tuple[str, ...] = ("pipeline", "users")


def _file_arguments(kind: argparse.ArgumentParser) -> None:
    """The file of an `ingest` kind that reads zips and workbooks: FILE, --member, --sheet."""
    kind.add_argument("file")
    kind.add_argument("--member", help="CSV inside a .zip that holds several")
    kind.add_argument("--sheet", help="load only this workbook sheet (default: every sheet)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m warehouse",
        description="Shelfwise warehouse: demo data, real-data ingest, SQL and info.",
    )
    parser.add_argument(
        "--db", help="warehouse file (default $SHELFWISE_DB or data/shelfwise.duckdb)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="generate the deterministic demo retailer")
    demo.add_argument("--scale", type=float, default=1.0, help="1 = 10 stores, 1,000 products")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--force", action="store_true", help="replace an existing warehouse")

    ingest = sub.add_parser("ingest", help="load a real data file (atomic, idempotent)")
    kinds = ingest.add_subparsers(dest="kind", required=True)
    retail = kinds.add_parser("online-retail", help="UCI Online Retail (II) invoice lines")
    _file_arguments(retail)
    retail.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="ROLE=NAME",
        help="the file's own name for a role (repeatable): invoice, stock_code, description, "
        "quantity, invoice_date, price, customer, country; e.g. --column invoice=order_no; "
        "ROLE= says the file has none (invoice: a basket per customer and day; quantity: "
        "one unit a line; price: units only)",
    )
    panel = kinds.add_parser("sales-panel", help="store x item sales panel, daily or weekly")
    panel.add_argument("file")
    panel.add_argument("--date-col", required=True)
    panel.add_argument(
        "--store-col", help="the store column; leave out for one shop's file (store 'MAIN')"
    )
    panel.add_argument(
        "--item-col", help="the item column; leave out for a file of store totals (item 'ALL')"
    )
    panel.add_argument("--qty-col", required=True)
    panel.add_argument("--price-col")
    panel.add_argument("--source", default="sales_panel", help="name of this source")
    panel.add_argument(
        "--duplicates",
        choices=("refuse", "sum"),
        default="refuse",
        help="rows repeating a store x item x date: quarantine them (a panel, the default) or "
        "sum them into the day (a file of sales lines)",
    )
    panel.add_argument("--member", help="CSV inside a .zip (default train.csv or the only one)")
    panel.add_argument("--sheet", help="load only this workbook sheet (default: every sheet)")
    inv = kinds.add_parser("inventory", help="stock snapshots CSV")
    inv.add_argument("file")
    inv.add_argument("--store-col", default="store_id")
    inv.add_argument("--product-col", default="product_id")
    inv.add_argument("--date-col", default="snapshot_date")
    inv.add_argument("--on-hand-col", default="on_hand_units")
    inv.add_argument("--on-order-col", default="on_order_units")
    sup = kinds.add_parser("supply", help="supply parameters CSV (lead times, costs, packs)")
    sup.add_argument("file")
    sup.add_argument("--product-col", default="product_id")
    sup.add_argument("--store-col", default="store_id")
    sup.add_argument(
        "--supplier-col",
        default="supplier_id",
        help="optional supplier column (default supplier: DEFAULT)",
    )

    prod = kinds.add_parser(
        "products", help="product master: descriptions, categories, list prices, unit costs"
    )
    _file_arguments(prod)
    prod.add_argument("--product-col", default="product_id")
    for field, default in (
        ("description", "description"),
        ("category", "category"),
        ("price", "unit_price"),
        ("cost", "unit_cost"),
    ):
        prod.add_argument(
            f"--{field}-col", default=default, help=f"optional (default {default!r}, if present)"
        )

    promo = kinds.add_parser(
        "promotions", help="promotions, past and planned: product, days, store, discount"
    )
    _file_arguments(promo)
    promo.add_argument("--product-col", default="product_id")
    promo.add_argument("--start-col", default="start_date", help="the first day on promotion")
    for field, default, what in (
        ("end", "end_date", "the last day; blank or absent: the first day only"),
        ("store", "store_id", "blank or absent: every store"),
        ("discount", "discount_pct", "percent, 0 < d <= 100; blank or absent: a flag"),
        ("id", "promotion_id", "absent: store, product and first day"),
    ):
        promo.add_argument(f"--{field}-col", default=default, help=f"optional: {what}")
    promo.add_argument(
        "--flag-col", help="a yes/no column (onpromotion): only its rows marked yes are loaded"
    )

    sql = sub.add_parser("sql", help="run one read-only query and print the result")
    sql.add_argument("query")
    sql.add_argument("--max-rows", type=int, default=50)
    sql.add_argument("--timeout", default="30", help="seconds before the query stops, 0 < s <= 300")

    hol = sub.add_parser(
        "holidays", help="show or set the country whose public holidays the forecasts use"
    )
    hol.add_argument(
        "--country",
        help="ISO 3166 code, e.g. US or DE, with a subdivision after a hyphen where the "
        "holidays differ, e.g. GB-SCT or US-CA (a new warehouse uses GB); rebuilds marts",
    )
    sub.add_parser("info", help="row counts and date ranges of the marts")
    sub.add_parser("check", help="run the mart key tests (unique, not null)")
    for name in MOVED_COMMANDS:
        moved = sub.add_parser(name, help=f"moved: `python -m services {name}`")
        moved.add_argument("--if-missing", action="store_true", help=argparse.SUPPRESS)
        moved.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    keys = sub.add_parser("keys", help="manage HTTP API keys (see warehouse.keys)")
    keys.add_argument(
        "keys_args", nargs=argparse.REMAINDER, help="add NAME --role R | list | revoke NAME"
    )
    finish_parser(parser, EXAMPLES)
    return parser


#: One example per sub-command, shown by `--help`.
EXAMPLES = {
    "demo": "python -m warehouse demo --scale 1 --seed 42",
    "ingest online-retail": "python -m warehouse ingest online-retail online_retail_II.parquet "
    "--db data/online_retail.duckdb",
    "ingest sales-panel": "python -m warehouse ingest sales-panel train.zip --date-col date "
    "--store-col store --item-col item --qty-col sales",
    "ingest inventory": "python -m warehouse ingest inventory stock.csv",
    "ingest supply": "python -m warehouse ingest supply supply.csv",
    "ingest products": "python -m warehouse ingest products articles.csv --product-col article_id "
    "--description-col prod_name --category-col product_group_name",
    "ingest promotions": "python -m warehouse ingest promotions plan.csv --store-col shop "
    "--discount-col pct_off",
    "sql": 'python -m warehouse sql "SELECT count(*) FROM fct_sales"',
    "holidays": "python -m warehouse holidays --country US",
    "info": "python -m warehouse info --db data/online_retail.duckdb",
    "check": "python -m warehouse check",
    "pipeline": "python -m services pipeline",
    "users": "python -m services users list",
    "keys": "python -m warehouse keys add shop --role merchandiser",
}


def _cmd_demo(db: Path, args: argparse.Namespace) -> None:
    from warehouse.demo import DemoConfig, build_demo

    if db.exists() and not args.force:
        raise WarehouseError(f"{db}: a warehouse exists; pass --force to replace it with the demo")
    cfg = DemoConfig(scale=args.scale, seed=args.seed)
    start = time.perf_counter()
    counts = build_demo(db, cfg)
    print(
        f"Built demo warehouse {db} (scale {cfg.scale:g}, seed {cfg.seed}) "
        f"in {time.perf_counter() - start:.1f} s"
    )
    for mart, n in counts.items():
        print(f"  {mart:<18} {n:>12,}")


def _cmd_ingest(db: Path, args: argparse.Namespace) -> None:
    from warehouse import ingest
    from warehouse.ingest.online_retail import parse_role_names
    from warehouse.ingest.products import ProductColumns
    from warehouse.ingest.promotions import PromotionColumns
    from warehouse.ingest.sales_panel import PanelColumns

    if args.kind == "online-retail":
        report = ingest.ingest_online_retail(
            db,
            args.file,
            member=args.member,
            sheet=args.sheet,
            columns=parse_role_names(args.column),
        )
    elif args.kind == "sales-panel":
        cols = PanelColumns(
            args.date_col, args.store_col, args.item_col, args.qty_col, args.price_col
        )
        report = ingest.ingest_sales_panel(
            db,
            args.file,
            cols,
            source=args.source,
            member=args.member,
            sheet=args.sheet,
            duplicates=args.duplicates,
        )
    elif args.kind == "inventory":
        report = ingest.ingest_inventory(
            db,
            args.file,
            store_col=args.store_col,
            product_col=args.product_col,
            date_col=args.date_col,
            on_hand_col=args.on_hand_col,
            on_order_col=args.on_order_col,
        )
    elif args.kind == "promotions":
        report = ingest.ingest_promotions(
            db,
            args.file,
            PromotionColumns(
                args.product_col,
                args.start_col,
                args.end_col or None,
                args.store_col or None,
                args.discount_col or None,
                args.id_col or None,
                args.flag_col or None,
            ),
            member=args.member,
            sheet=args.sheet,
        )
    elif args.kind == "products":
        report = ingest.ingest_products(
            db,
            args.file,
            ProductColumns(
                args.product_col,
                args.description_col,
                args.category_col,
                args.price_col,
                args.cost_col,
            ),
            member=args.member,
            sheet=args.sheet,
        )
    else:
        report = ingest.ingest_supply(
            db,
            args.file,
            product_col=args.product_col,
            store_col=args.store_col,
            supplier_col=args.supplier_col,
        )
    print(report.render())


def _cmd_sql(db: Path, args: argparse.Namespace) -> None:
    from warehouse.sandbox import run_sandboxed, validate_timeout

    try:
        timeout_s = validate_timeout(args.timeout)
    except WarehouseError as exc:
        raise WarehouseError(f"--timeout: {exc}") from None
    result = run_sandboxed(db, args.query, max_rows=args.max_rows, timeout_s=timeout_s)
    with pl.Config(tbl_rows=args.max_rows, tbl_cols=50, fmt_str_lengths=60, tbl_width_chars=200):
        print(result.frame)
    shown = f"{result.frame.height:,} row(s) in {result.elapsed_s:.2f} s"
    if result.truncated:
        print(f"{shown} (truncated: showing the first {args.max_rows} rows; the query has more)")
    else:
        print(shown)


def _cmd_holidays(db: Path, args: argparse.Namespace) -> None:
    from warehouse.build import holiday_calendar
    from warehouse.ingest import set_holiday_calendar

    if args.country is None:
        with reading(db) as con:
            print(f"holiday calendar: {holiday_calendar(con)}")
        return
    print(f"holiday calendar: {set_holiday_calendar(db, args.country)}")
    print("forecasts use it from their next run (python -m services pipeline)")


def _cmd_info(db: Path) -> None:
    from warehouse.build import warehouse_info

    with reading(db) as con:
        info = warehouse_info(con)
    print(f"Warehouse {db}")
    with pl.Config(tbl_rows=100, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        print(info)


def _cmd_check(db: Path) -> None:
    from warehouse.build import MART_KEYS, check_mart_keys

    with reading(db) as con:
        failures = check_mart_keys(con)
    for failure in failures:
        print(f"FAIL {failure}")
    if failures:
        raise WarehouseError(f"{len(failures)} mart key test(s) failed")
    print(f"all {len(MART_KEYS)} mart key tests passed (unique and not null)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code (0 ok, 2 user error)."""
    args = _parser().parse_args(argv)
    db = resolve_db_path(args.db)
    if args.quiet:
        os.environ["TQDM_DISABLE"] = "1"
    try:
        if args.command == "demo":
            _cmd_demo(db, args)
        elif args.command == "ingest":
            _cmd_ingest(db, args)
        elif args.command == "sql":
            _cmd_sql(db, args)
        elif args.command == "holidays":
            _cmd_holidays(db, args)
        elif args.command == "info":
            _cmd_info(db)
        elif args.command == "check":
            _cmd_check(db)
        elif args.command in MOVED_COMMANDS:
            print(
                f"error: `{args.command}` moved: run `python -m services {args.command} ...` "
                "(it lives in services/, above the warehouse)",
                file=sys.stderr,
            )
            return 2
        elif args.command == "keys":
            from warehouse.keys import keys_cli

            return keys_cli(list(args.keys_args))
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the warehouse is unchanged", file=sys.stderr)
        return 130
    return 0
