"""Whether a warehouse's data can feed recommendations at all (light: no model, no scipy).

The sidebar asks on every page run; the refresh pipeline skips the recommender's steps with the
same reason, and the Recommendations page shows it instead of "no model yet".
"""

from __future__ import annotations

import os

from warehouse.db import reading, run_named, table_exists

#: Why a warehouse without identified customers gets no recommendations.
NO_CUSTOMERS = "no sale has a customer id, and recommendations learn from customers' purchases"


def customers_missing(db: str | os.PathLike[str]) -> str | None:
    """`NO_CUSTOMERS` when no sale line names a customer (e.g. a store x item sales panel); None
    when some do, or when the warehouse has no sales table yet (nothing is known)."""
    with reading(db) as con:
        if not table_exists(con, "fct_sales"):
            return None
        found = run_named(con, "recsys/has_customer_purchases")["any_customer_purchase"][0]
    return None if found else NO_CUSTOMERS
