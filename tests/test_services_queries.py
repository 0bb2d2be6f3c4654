"""services.queries: the SQL workbench's examples run in the sandbox on every kind of warehouse."""

from __future__ import annotations

from pathlib import Path

from services.queries import EXAMPLE_QUERIES
from warehouse.sandbox import QueryResult, run_batch

SALES_EXAMPLES = ("Revenue by category, last 90 days", "Weekly revenue")


def _run_all(db: Path) -> dict[str, QueryResult]:
    outcomes = run_batch(db, list(EXAMPLE_QUERIES.values()), role="analyst", timeout_s=60)
    assert all(isinstance(o, QueryResult) for o in outcomes), outcomes
    return dict(zip(EXAMPLE_QUERIES, outcomes, strict=True))  # type: ignore[arg-type]


def test_every_example_runs_on_the_demo(demo_db_master: Path) -> None:
    results = _run_all(demo_db_master)
    by_category = results["Revenue by category, last 90 days"].frame
    assert by_category["revenue"].null_count() == 0
    assert by_category["revenue"].to_list() == sorted(by_category["revenue"], reverse=True)


def test_the_sales_examples_say_something_without_prices(store_item_sample_master: Path) -> None:
    """A panel of units has NULL revenue: the sales examples also read units, largest first."""
    results = _run_all(store_item_sample_master)
    for name in SALES_EXAMPLES:
        frame = results[name].frame
        assert frame.height and frame["revenue"].null_count() == frame.height
        assert frame["units"].null_count() == 0 and frame["units"].sum() > 0
