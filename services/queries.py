"""Saved SQL workbench queries per user, and the workbench's examples (no streamlit).

Kept as JSON next to the warehouse (`models/<db>/queries/<user>.json`), written atomically.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from warehouse.db import WarehouseError
from warehouse.paths import artifacts_dir

_NAME = re.compile(r"^[\w .-]{1,60}$")
MAX_SQL_CHARS = 20_000
#: Example queries of the SQL workbench, name -> SQL (the first is the editor's opening text).
#: Each also reads units, so it says something for sales without prices (revenue NULL).
EXAMPLE_QUERIES: dict[str, str] = {
    "Revenue by category, last 90 days": (
        "SELECT p.category, round(sum(d.revenue), 2) AS revenue, sum(d.units) AS units\n"
        "FROM fct_sales_daily d JOIN dim_product p USING (product_id)\n"
        "WHERE d.sale_date > (SELECT max(sale_date) FROM fct_sales_daily) - INTERVAL 90 DAY\n"
        "GROUP BY ALL ORDER BY revenue DESC NULLS LAST, units DESC"
    ),
    "Weekly revenue": (
        "SELECT date_trunc('week', sale_date) AS week, round(sum(revenue), 2) AS revenue,\n"
        "  sum(units) AS units\nFROM fct_sales_daily GROUP BY ALL ORDER BY week"
    ),
    "Stockouts at the latest snapshot": (
        "SELECT store_id, count(*) AS positions_out_of_stock\nFROM fct_inventory\n"
        "WHERE snapshot_date = (SELECT max(snapshot_date) FROM fct_inventory)\n"
        "  AND on_hand_units <= 0\nGROUP BY ALL ORDER BY 2 DESC"
    ),
    "Columns of fct_sales_daily": "DESCRIBE fct_sales_daily",
    "Profile of dim_product": "SUMMARIZE dim_product",
}


def _store(db: str | os.PathLike[str] | None, user: str) -> Path:
    if not _NAME.match(user):
        raise WarehouseError(f"user name {user!r}: letters, digits, space, '.', '-' only")
    return artifacts_dir(db, "queries") / f"{user}.json"


def saved_queries(db: str | os.PathLike[str] | None, user: str) -> dict[str, str]:
    """The user's saved queries, name -> SQL ({} when none)."""
    path = _store(db, user)
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def save_query(db: str | os.PathLike[str] | None, user: str, name: str, sql: str) -> Path:
    """Save (or replace) query `name` for `user`; returns the JSON file."""
    if not _NAME.match(name):
        raise WarehouseError(f"query name {name!r}: 1-60 letters, digits, space, '.', '-'")
    if not sql.strip() or len(sql) > MAX_SQL_CHARS:
        raise WarehouseError(f"query {name!r}: empty or longer than {MAX_SQL_CHARS:,} chars")
    path = _store(db, user)
    queries = saved_queries(db, user)
    queries[name] = sql
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(queries, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path
