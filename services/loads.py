"""A file of a given kind loaded into the warehouse: the upload of the Data & models page; and
the warehouse's holiday calendar (shown and set there).

The five kinds are the warehouse loaders (`warehouse.ingest`); each load is atomic and returns
its report (rows added, quarantined, reasons).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from warehouse import ingest
from warehouse.build import HolidayCalendar
from warehouse.build import holiday_calendar as read_holiday_calendar
from warehouse.db import WarehouseError, reading
from warehouse.ingest.sales_panel import PanelColumns
from warehouse.load import LoadReport

#: Kinds of file the app can load, in the order the page offers them.
LOAD_KINDS: tuple[str, ...] = ("online-retail", "sales-panel", "inventory", "supply", "products")
#: Column roles of a sales panel and their default source names.
PANEL_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("date_col", "date"),
    ("store_col", "store"),
    ("item_col", "item"),
    ("qty_col", "sales"),
    ("price_col", ""),
)

#: What a blank sales-panel role means, shown beside its name.
PANEL_HINTS: dict[str, str] = {
    "store_col": " (blank: one shop)",
    "item_col": " (blank: store totals)",
    "price_col": " (optional)",
}


def load_file(
    db: str | os.PathLike[str],
    kind: str,
    path: Path,
    panel: dict[str, str] | None = None,
) -> LoadReport:
    """Load `path` as a file of `kind`; a sales panel names its columns in `panel`.

    `panel` maps the `PANEL_DEFAULTS` roles (date_col, store_col, item_col, qty_col, and the
    optional price_col: empty = the file has no prices; store_col empty = one shop; item_col
    empty = store totals) to source
    columns, and may set "duplicates" to "sum" (rows repeating a store x item x date are sales
    lines, added up) instead of "refuse". Raises `WarehouseError` (or `ValueError`) with the
    warehouse unchanged.
    """
    if kind == "online-retail":
        return ingest.ingest_online_retail(db, path)
    if kind == "sales-panel":
        cols = {**dict(PANEL_DEFAULTS), **(panel or {})}
        columns = PanelColumns(
            cols["date_col"],
            cols["store_col"].strip() or None,
            cols["item_col"].strip() or None,
            cols["qty_col"],
            cols["price_col"].strip() or None,
        )
        duplicates = cols.get("duplicates", "refuse")
        return ingest.ingest_sales_panel(db, path, columns, duplicates=duplicates)
    if kind == "inventory":
        return ingest.ingest_inventory(db, path)
    if kind == "supply":
        return ingest.ingest_supply(db, path)
    if kind == "products":
        return ingest.ingest_products(db, path)
    raise WarehouseError(f"kind: {kind!r} is not one of {', '.join(LOAD_KINDS)}")


def load_upload(
    db: str | os.PathLike[str],
    kind: str,
    file_name: str,
    data: bytes,
    panel: dict[str, str] | None = None,
) -> LoadReport:
    """Load uploaded bytes named `file_name` (its suffix picks the reader) as a file of `kind`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(file_name).name
        path.write_bytes(data)
        return load_file(db, kind, path, panel)


def holiday_calendar(db: str | os.PathLike[str]) -> HolidayCalendar:
    """The warehouse's holiday calendar (country, holidays in dim_date)."""
    with reading(db) as con:
        return read_holiday_calendar(con)


def set_holiday_calendar(db: str | os.PathLike[str], country: str) -> HolidayCalendar:
    """Make `country` (ISO 3166 code) the warehouse's holiday calendar, marts rebuilt atomically;
    raises `WarehouseError` naming the code (warehouse unchanged) when it is unknown."""
    return ingest.set_holiday_calendar(db, country)
