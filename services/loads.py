"""A file of a given kind loaded into the warehouse: the upload of the Data & models page; and
the warehouse's holiday calendar (shown and set there).

The six kinds are the warehouse loaders (`warehouse.ingest`); each load is atomic and returns
its report (rows added, quarantined, reasons).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from warehouse import ingest
from warehouse.build import HolidayCalendar
from warehouse.build import holiday_calendar as read_holiday_calendar
from warehouse.db import WarehouseError, reading
from warehouse.ingest.online_retail import parse_role_names
from warehouse.ingest.products import ProductColumns
from warehouse.ingest.promotions import PromotionColumns
from warehouse.ingest.sales_panel import PanelColumns
from warehouse.load import LoadReport

#: Kinds of file the app can load, in the order the page offers them.
LOAD_KINDS: tuple[str, ...] = (
    "online-retail",
    "sales-panel",
    "inventory",
    "supply",
    "products",
    "promotions",
)


@dataclass(frozen=True)
class ColumnField:
    """One column-name field of the upload form: `role` is `load_file`'s key, `default` the
    name the loader looks for ("" = none), `hint` what a blank name means."""

    role: str
    default: str
    hint: str = ""


#: Per kind, the column names a user may change before loading (the loaders' own defaults).
COLUMN_FIELDS: dict[str, tuple[ColumnField, ...]] = {
    "online-retail": (
        ColumnField(
            "columns",
            "",
            " (ROLE=NAME, comma-separated, where the file's names differ; ROLE= for one it "
            "lacks: invoice= a basket per customer and day, quantity= one unit a line, price= "
            "units only)",
        ),
    ),
    "sales-panel": (
        ColumnField("date_col", "date"),
        ColumnField("store_col", "store", " (blank: one shop)"),
        ColumnField("item_col", "item", " (blank: store totals)"),
        ColumnField("qty_col", "sales"),
        ColumnField("price_col", "", " (optional)"),
    ),
    "inventory": (
        ColumnField("store_col", "store_id"),
        ColumnField("product_col", "product_id"),
        ColumnField("date_col", "snapshot_date"),
        ColumnField("on_hand_col", "on_hand_units"),
        ColumnField("on_order_col", "on_order_units", " (optional)"),
    ),
    "supply": (
        ColumnField("product_col", "product_id"),
        ColumnField("store_col", "store_id", " (blank: every store alike)"),
        ColumnField("supplier_col", "supplier_id", " (optional)"),
    ),
    "products": (
        ColumnField("product_col", "product_id"),
        ColumnField("description_col", "description", " (optional)"),
        ColumnField("category_col", "category", " (optional)"),
        ColumnField("price_col", "unit_price", " (optional)"),
        ColumnField("cost_col", "unit_cost", " (optional)"),
    ),
    "promotions": (
        ColumnField("product_col", "product_id"),
        ColumnField("start_col", "start_date"),
        ColumnField("end_col", "end_date", " (blank: one day)"),
        ColumnField("store_col", "store_id", " (blank: every store)"),
        ColumnField("discount_col", "discount_pct", " (blank: flags)"),
        ColumnField("id_col", "promotion_id", " (optional)"),
        ColumnField("flag_col", "", " (optional: a yes/no column, rows marked yes load)"),
    ),
}


def _names(kind: str, given: Mapping[str, str] | None) -> dict[str, str]:
    """{role: column name, stripped} for `kind`: the form's values over the defaults; a role
    the kind does not have raises naming it."""
    fields = COLUMN_FIELDS[kind]
    known = {f.role for f in fields} | ({"duplicates"} if kind == "sales-panel" else set())
    unknown = sorted(set(given or {}) - known)
    if unknown:
        raise WarehouseError(
            f"{kind} columns: unknown field {', '.join(map(repr, unknown))}; "
            f"fields: {', '.join(sorted(known))}"
        )
    return {f.role: f.default for f in fields} | {
        role: name.strip() for role, name in (given or {}).items()
    }


def load_file(
    db: str | os.PathLike[str],
    kind: str,
    path: Path,
    columns: Mapping[str, str] | None = None,
) -> LoadReport:
    """Load `path` as a file of `kind`, its column names in `columns` (`COLUMN_FIELDS[kind]`).

    A blank optional name means the file has none (store_col: one shop, or every store alike
    for supply; item_col: store totals); an online-retail file's one field holds `ROLE=NAME`
    pairs as the CLI's `--column`. A sales panel's "duplicates" may be "sum" (rows repeating a
    store x item x date are sales lines, added up) instead of "refuse". Raises
    `WarehouseError` (or `ValueError`) naming the field, column or row, the warehouse unchanged.
    """
    if kind not in COLUMN_FIELDS:
        raise WarehouseError(f"kind: {kind!r} is not one of {', '.join(LOAD_KINDS)}")
    cols = _names(kind, columns)
    if kind == "online-retail":
        roles = parse_role_names(cols["columns"], label="columns:")
        try:
            return ingest.ingest_online_retail(db, path, columns=roles)
        except WarehouseError as exc:  # the CLI's option words, as the form spells them
            text = str(exc).replace("--column:", "columns:").replace("--column ", "")
            raise WarehouseError(text) from None
    if kind == "sales-panel":
        panel = PanelColumns(
            cols["date_col"],
            cols["store_col"] or None,
            cols["item_col"] or None,
            cols["qty_col"],
            cols["price_col"] or None,
        )
        duplicates = cols.get("duplicates", "refuse")
        return ingest.ingest_sales_panel(db, path, panel, duplicates=duplicates)
    if kind == "inventory":
        return ingest.ingest_inventory(
            db,
            path,
            store_col=cols["store_col"],
            product_col=cols["product_col"],
            date_col=cols["date_col"],
            on_hand_col=cols["on_hand_col"],
            on_order_col=cols["on_order_col"] or None,
        )
    if kind == "supply":
        return ingest.ingest_supply(
            db,
            path,
            product_col=cols["product_col"],
            store_col=cols["store_col"] or None,
            supplier_col=cols["supplier_col"] or None,
        )
    if kind == "promotions":
        promotion = PromotionColumns(
            cols["product_col"],
            cols["start_col"],
            cols["end_col"] or None,
            cols["store_col"] or None,
            cols["discount_col"] or None,
            cols["id_col"] or None,
            cols["flag_col"] or None,
        )
        return ingest.ingest_promotions(db, path, promotion)
    product = ProductColumns(
        cols["product_col"],
        cols["description_col"] or None,
        cols["category_col"] or None,
        cols["price_col"] or None,
        cols["cost_col"] or None,
    )
    return ingest.ingest_products(db, path, product)


def load_upload(
    db: str | os.PathLike[str],
    kind: str,
    file_name: str,
    data: bytes,
    columns: Mapping[str, str] | None = None,
) -> LoadReport:
    """Load uploaded bytes named `file_name` (its suffix picks the reader) as a file of `kind`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(file_name).name
        path.write_bytes(data)
        try:
            return load_file(db, kind, path, columns)
        except WarehouseError as exc:  # named as uploaded, not by the temporary folder
            raise WarehouseError(str(exc).replace(str(path), path.name)) from None


def holiday_calendar(db: str | os.PathLike[str]) -> HolidayCalendar:
    """The warehouse's holiday calendar (country, holidays in dim_date)."""
    with reading(db) as con:
        return read_holiday_calendar(con)


def set_holiday_calendar(db: str | os.PathLike[str], country: str) -> HolidayCalendar:
    """Make `country` (ISO 3166 code) the warehouse's holiday calendar, marts rebuilt atomically;
    raises `WarehouseError` naming the code (warehouse unchanged) when it is unknown."""
    return ingest.set_holiday_calendar(db, country)
