"""Time to first render of each app page (AppTest, in process), p50/p95 over repeated sessions.

Each sample is a new session landing directly on the page (what a browser opening its URL does):
`cold` clears Streamlit's data cache first (the first visitor after a refresh), `warm` keeps it
(everyone after). Beside them, in the same run: `services`, the bare service calls the page makes
(no Streamlit), and the 1 s target. Run:

    .venv/bin/python bench/bench_app.py --db /tmp/app/demo.duckdb --repeats 7

Pages whose model is missing render their empty state; the table says so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from forecasting import api  # noqa: E402 - after the repo is on the path
from forecasting.errors import NoForecastError, NoPlanError  # noqa: E402
from forecasting.inventory import api as inventory_api  # noqa: E402
from recsys import service  # noqa: E402
from recsys.errors import NoModelError  # noqa: E402

#: url path -> (page key, title) as registered in app.py; "" is the default page.
PAGES: dict[str, tuple[str, str]] = {
    "": ("overview", "Overview"), "sales-explorer": ("sales", "Sales explorer"),
    "recommend": ("recommendations", "Recommendations"), "forecast": ("forecasts", "Forecasts"),
    "stock": ("inventory", "Inventory"), "sql-workbench": ("sql", "SQL workbench"),
    "data-models": ("data", "Data & models"),
}
TARGET_S = 1.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


_HARNESS: dict[str, object] = {}


def _server_like_harness() -> None:
    """Make AppTest behave like one long-lived server: one data cache for every session (AppTest
    makes a new one per run) and the custom-component scan done once (AppTest repeats it per
    instance: ~2 s of reading package metadata that a real server pays at start-up only)."""
    from streamlit.runtime.caching.storage.dummy_cache_storage import (
        MemoryCacheStorageManager,
    )
    from streamlit.testing.v1 import app_test

    manager = MemoryCacheStorageManager()
    app_test.MemoryCacheStorageManager = lambda: manager  # type: ignore[assignment]


def render_once(url_path: str, clear: bool) -> tuple[float, str]:
    """Seconds for one new session's first run of the page, and how it ended."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    from streamlit.util import calc_hash

    if clear:
        st.cache_data.clear()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    if "components" in _HARNESS:
        at._bidi_component_manager = _HARNESS["components"]
    if url_path:
        at._page_hash = calc_hash(url_path)
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    _HARNESS.setdefault("components", at._bidi_component_manager)
    if at.exception:
        return elapsed, "exception"
    shown = at.metric or at.dataframe or at.get("plotly_chart")
    return elapsed, "ok" if shown else "empty state"


#: The packages' "no output yet" errors (their pages then render an empty state).
_MISSING_OUTPUT: tuple[type[BaseException], ...] = (NoModelError, NoForecastError, NoPlanError)


def services_once(key: str, db: Path) -> float:
    """Seconds of the service calls behind the page's first render, without Streamlit."""
    from services import dashboard as aq
    from services.dashboard import Filters
    from warehouse.readers import LiveWarehouse

    live = LiveWarehouse(db)
    start = time.perf_counter()
    con = live.cursor()
    span = aq.data_range(con)
    aq.filter_options(con)
    assert span.last_day is not None
    from datetime import timedelta

    f = Filters(max(span.first_day, span.last_day - timedelta(days=89)), span.last_day)
    calls: dict[str, list[Callable[[], object]]] = {
        "overview": [lambda: aq.alerts(con, f), lambda: aq.kpis(con, f),
                     lambda: aq.trend(con, f, "week"), lambda: aq.movers(con, f, 10)],
        "sales": [lambda: aq.trend(con, f, "week"), lambda: aq.breakdown(con, f, "category"),
                  lambda: aq.seasonality(con, f), lambda: aq.products(con),
                  lambda: aq.product_detail(con, aq.products(con)["product_id"][0], f)],
        "sql": [lambda: aq.schema_tables(con), lambda: aq.schema_columns(con)],
        "data": [lambda: aq.data_quality(con), lambda: aq.model_versions(db)],
    }
    calls.update(_package_calls(db, con))
    for call in calls.get(key, []):
        try:
            call()
        except _MISSING_OUTPUT:  # no model/forecast/plan yet: the page shows its empty state
            break
    con.close()
    return time.perf_counter() - start


def _package_calls(db: Path, con: object) -> dict[str, list[Callable[[], object]]]:
    """The other packages' service calls behind the first render of their pages."""
    from services import dashboard as aq

    stores, _ = aq.filter_options(con)
    store = next(iter(stores))
    product = aq.products(con)["product_id"][0]
    customer = aq.customer_search(con, "", 50)["customer_id"][0]
    return {
        "recommendations": [
            lambda: service.model_status(db), lambda: aq.customer_search(con, "", 50),
            lambda: service.recommend_for_customer(db, customer, 20),
            lambda: service.customer_history(db, customer),
            lambda: service.similar_products(db, product, 20)],
        "forecasts": [
            lambda: api.load_forecast(db, store_id=store, product_id=product),
            lambda: api.load_history(db, store_id=store, product_id=product),
            lambda: api.backtest_summary(db), lambda: api.forecast_drivers(db, store, product)],
        "inventory": [lambda: inventory_api.what_to_order(db),
                      lambda: inventory_api.stock_view(db, store, product),
                      lambda: inventory_api.simulation_summary(db)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("SHELFWISE_DB", "data/shelfwise.duckdb"))
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    db = Path(args.db).resolve()
    os.environ["SHELFWISE_DB"] = str(db)
    os.environ["SHELFWISE_AUTH"] = "0"
    import logging

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    _server_like_harness()
    render_once("", clear=True)  # imports (streamlit, plotly, polars) are paid once per server

    print(f"App time to first render, {db.name} ({db.stat().st_size / 1e6:.0f} MB), "
          f"{args.repeats} sessions per page, seconds")
    header = (f"{'page':<16} {'cold p50':>8} {'cold p95':>8} {'warm p50':>8} {'warm p95':>8} "
              f"{'services':>8} {'cold/target':>11} {'warm/target':>11}  state")
    print(header)
    print("-" * len(header))
    for url_path, (key, title) in PAGES.items():
        cold, warm, states = [], [], set()
        for _ in range(args.repeats):
            seconds, state = render_once(url_path, clear=True)
            cold.append(seconds)
            states.add(state)
            seconds, state = render_once(url_path, clear=False)
            warm.append(seconds)
        services = statistics.median(services_once(key, db) for _ in range(3))
        print(f"{title:<16} {percentile(cold, .5):>8.3f} {percentile(cold, .95):>8.3f} "
              f"{percentile(warm, .5):>8.3f} {percentile(warm, .95):>8.3f} {services:>8.3f} "
              f"{percentile(cold, .5) / TARGET_S:>10.2f}x {percentile(warm, .5) / TARGET_S:>10.2f}x"
              f"  {', '.join(sorted(states))}")


if __name__ == "__main__":
    main()
