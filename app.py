"""Shelfwise app entry point: reads secrets, opens the warehouse, routes to the pages.

Run with `make run` (or `streamlit run app.py`). The warehouse is `$SHELFWISE_DB` or
data/shelfwise.duckdb. Pages live in pages/ and are registered here explicitly; a page the
signed-in role may not open is left out of the navigation (`pages._navigation`) and refuses a
direct visit.
"""

from __future__ import annotations

import os
from typing import Any

import streamlit as st

from pages import _shared as shared
from pages._freshness import render_freshness
from pages._navigation import role_navigation, signin_navigation, start_session
from pages._sidebar import sidebar_filters, sidebar_user
from warehouse.db import WarehouseError, resolve_db_path
from warehouse.readers import LiveWarehouse

#: Page key -> (file, title, icon, url path); keys and minimal roles are `services.auth.PAGES`.
#: Served through `python -m pages._serve` (`make run`), which tells Streamlit before the server
#: starts that this app routes with `st.navigation`: otherwise the pages/ folder makes a fresh
#: server's first run a legacy (MPA v1) one, and a deep link as the first visit shows "Page not
#: found" (issue 18). Each page also checks the role.
PAGE_FILES: dict[str, tuple[str, str, str, str]] = {
    "overview": ("pages/overview.py", "Overview", ":material/dashboard:", "home"),
    "sales": ("pages/sales.py", "Sales explorer", ":material/query_stats:", "sales-explorer"),
    "recommendations": (
        "pages/recommendations.py",
        "Recommendations",
        ":material/recommend:",
        "recommend",
    ),
    "forecasts": ("pages/forecasts.py", "Forecasts", ":material/trending_up:", "forecast"),
    "inventory": ("pages/inventory.py", "Inventory", ":material/inventory_2:", "stock"),
    "sql": ("pages/sql.py", "SQL workbench", ":material/terminal:", "sql-workbench"),
    "data": ("pages/data.py", "Data & models", ":material/database:", "data-models"),
}
SECTIONS: dict[str, tuple[str, ...]] = {
    "Dashboards": ("overview", "sales", "forecasts", "inventory"),
    "Merchandising": ("recommendations",),
    "Analysis": ("sql",),
    "Admin": ("data",),
}


@st.cache_resource(show_spinner=False)
def open_warehouse(path: str) -> LiveWarehouse:
    """One live read-only warehouse per file for the whole server (reopens after swaps)."""
    return LiveWarehouse(resolve_db_path(path))


def secrets(name: str) -> dict[str, Any]:
    """One section of the Streamlit secrets ({} when absent or unreadable)."""
    try:
        return dict(st.secrets.get(name, {}))
    except Exception:  # noqa: BLE001 - a missing or malformed secrets.toml must not stop the app
        return {}


def main() -> None:
    """Route the run: sign-in first when needed, then the pages the role may open."""
    # 340 px: the sidebar's date range ("2026/08/03 – 2026/10/31") fits without being cut off
    st.set_page_config(
        page_title="Shelfwise",
        page_icon=":material/storefront:",
        layout="wide",
        initial_sidebar_state=340,
    )
    user, note = start_session(secrets("shelfwise"), bool(secrets("auth")))
    if user is None:
        signin_navigation(PAGE_FILES).run()
        return
    page = role_navigation(user.role, PAGE_FILES, SECTIONS)
    sidebar_user(user, note)
    live = open_warehouse(os.fspath(resolve_db_path(None)))
    st.session_state[shared.WAREHOUSE_KEY] = live
    try:
        st.session_state[shared.FILTERS_KEY] = sidebar_filters(live)
        render_freshness(live.path)
    except WarehouseError as exc:
        st.error(str(exc))
        st.stop()
    page.run()


main()
