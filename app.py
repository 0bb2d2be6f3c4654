"""Shelfwise app entry point: sign-in, sidebar (warehouse, data range, global filters), routing.

Run with `make run` (or `streamlit run app.py`). The warehouse is `$SHELFWISE_DB` or
data/shelfwise.duckdb. Pages live in pages/ and are registered here explicitly; a page the
signed-in role may not open is left out of the navigation and refuses a direct visit.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import streamlit as st

from pages import _shared as shared
from pages._freshness import render_freshness
from services import auth
from services.dashboard import Filters, LiveWarehouse
from warehouse.db import WarehouseError, resolve_db_path

#: Page key -> (file, title, icon, url path); keys and minimal roles are `warehouse.auth.PAGES`.
#: URL paths differ from the file names on purpose: Streamlit (AppTest, and a server before its
#: first `st.navigation` call) may treat pages/ as a legacy pages directory and would run
#: `pages/<url path>.py` directly, without this entry point; each page also checks the role.
PAGE_FILES: dict[str, tuple[str, str, str, str]] = {
    "overview": ("pages/overview.py", "Overview", ":material/dashboard:", "dashboard"),
    "sales": ("pages/sales.py", "Sales explorer", ":material/query_stats:", "sales-explorer"),
    "recommendations": ("pages/recommendations.py", "Recommendations", ":material/recommend:",
                        "recommend"),
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
DEFAULT_DAYS = 90


@st.cache_resource(show_spinner=False)
def open_warehouse(path: str) -> LiveWarehouse:
    """One live read-only warehouse per file for the whole server (reopens after swaps)."""
    return LiveWarehouse(resolve_db_path(path))


@st.cache_resource(show_spinner=False)
def signin_limiter() -> auth.RateLimiter:
    """Failed sign-ins counted across every session of this server."""
    return auth.RateLimiter()


def _secrets_section(name: str) -> dict[str, Any]:
    try:
        return dict(st.secrets.get(name, {}))
    except (FileNotFoundError, KeyError, AttributeError):
        return {}
    except Exception:  # a malformed secrets.toml must not take the app down
        return {}


def _oidc_user() -> auth.User | None:
    """The role of a user signed in through `st.login`, from [shelfwise] oidc_roles."""
    if not getattr(st.user, "is_logged_in", False):
        return None
    settings = _secrets_section("shelfwise")
    email = str(st.user.get("email") or st.user.get("sub") or "")
    roles = {str(k).lower(): str(v) for k, v in dict(settings.get("oidc_roles", {})).items()}
    role = roles.get(email.lower(), settings.get("oidc_default_role"))
    if role not in auth.ROLES:
        return None
    return auth.User(email, auth.parse_role(str(role)))


def signin_page() -> None:
    """The sign-in form (password users from the users file, and SSO when configured)."""
    st.title("Sign in to Shelfwise")
    oidc = bool(_secrets_section("auth"))
    if oidc:
        if getattr(st.user, "is_logged_in", False):
            st.error(f"{st.user.get('email', 'This account')} has no Shelfwise role; "
                     "ask an admin to add it to [shelfwise] oidc_roles.")
            st.button("Sign out", on_click=st.logout)
        else:
            st.button("Sign in with single sign-on", type="primary", on_click=st.login,
                      icon=":material/key:")
        st.divider()
    try:
        has_users = bool(auth.load_users())
    except WarehouseError as exc:
        st.error(str(exc))
        return
    if not has_users:
        st.info(f"No users yet: create one with `python -m services users add NAME --role "
                f"admin` (users file: {auth.users_path()}).")
    with st.form("signin"):
        name = st.text_input("User name", key="signin_name")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            user = auth.authenticate(name, password, limiter=signin_limiter())
        except auth.SignInLocked as exc:
            st.error(str(exc))
            return
        except WarehouseError as exc:
            st.error(str(exc))
            return
        if user is None:
            st.error("Wrong user name or password.")
            return
        st.session_state[shared.USER_KEY] = user
        st.rerun()


def resolve_user() -> tuple[auth.User | None, str]:
    """(signed-in user or None, a sidebar note on how sign-in applies)."""
    address = st.get_option("server.address")
    if not auth.signin_required(address):
        note = ("Sign-in off: local demo" + (f" on {address}" if address else "")
                + " (sign-in is on whenever the app listens beyond localhost, or with "
                "SHELFWISE_AUTH=1).")
        return auth.User("local", "admin"), note
    user = st.session_state.get(shared.USER_KEY)
    if isinstance(user, auth.User) and user.name != "local":
        return user, f"Signed in as **{user.name}** ({user.role})."
    oidc_user = _oidc_user()
    if oidc_user is not None:
        return oidc_user, f"Signed in as **{oidc_user.name}** ({oidc_user.role}, SSO)."
    return None, "Sign-in required."


def pseudonym_key() -> bytes | None:
    """Key of pseudonymised customer ids from secrets ([shelfwise] pseudonym_key); None lets
    `warehouse.privacy.load_key` use $SHELFWISE_PSEUDONYM_KEY or its key file."""
    key = _secrets_section("shelfwise").get("pseudonym_key")
    return str(key).encode() if key else None


def sign_out() -> None:
    """Forget the user of this session (and the SSO session)."""
    st.session_state.pop(shared.USER_KEY, None)
    if getattr(st.user, "is_logged_in", False):
        st.logout()


def sidebar_filters(live: LiveWarehouse) -> Filters:
    """Warehouse in use, data range and the global filters; kept in session_state across pages."""
    span = shared.query("data_range")  # cached per warehouse file generation
    stores, categories = shared.query("filter_options")
    st.sidebar.caption(f"Warehouse **{live.path.name}** · `{live.path}`")
    if span.first_day is None or span.last_day is None:
        st.sidebar.warning("The warehouse has no sales yet.")
        today = date.today()
        return Filters(today, today)
    st.sidebar.caption(f"Data {span.first_day} → {span.last_day} · {span.stores:,} stores · "
                       f"{span.products:,} products · {span.customers:,} customers")
    first, last = span.first_day, span.last_day
    default = (max(first, last - timedelta(days=DEFAULT_DAYS - 1)), last)
    chosen = st.session_state.get("flt_dates")
    if not (isinstance(chosen, tuple) and chosen and all(first <= d <= last for d in chosen)):
        st.session_state["flt_dates"] = default  # first run, or the data range moved
    for key, options in (("flt_stores", stores), ("flt_categories", categories)):
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options]
    with st.sidebar.expander("Filters", expanded=True, icon=":material/filter_alt:"):
        dates = st.date_input("Date range", min_value=first, max_value=last, key="flt_dates")
        picked = st.multiselect("Stores", list(stores), format_func=stores.get,
                                key="flt_stores", placeholder="All stores")
        cats = st.multiselect("Categories", categories, key="flt_categories",
                              placeholder="All categories")
    if isinstance(dates, tuple) and len(dates) == 2:
        start, end = dates
    else:  # the user is half-way through picking a range
        start, end = st.session_state.get(shared.FILTERS_KEY, Filters(*default)).start, last
        if isinstance(dates, tuple) and dates:
            start = dates[0]
    return Filters(start, end, tuple(picked), tuple(cats))


def main() -> None:
    """Route the run: sign-in first when needed, then the pages the role may open."""
    st.set_page_config(page_title="Shelfwise", page_icon=":material/storefront:", layout="wide")
    user, note = resolve_user()
    if user is None:
        st.navigation([st.Page(signin_page, title="Sign in", icon=":material/login:",
                               url_path="signin", default=True)]).run()
        return
    st.session_state[shared.USER_KEY] = user
    st.session_state[shared.PRIVACY_KEY] = pseudonym_key()
    allowed = set(auth.allowed_pages(user.role))
    nav: dict[str, list[st.Page]] = {}
    for section, keys in SECTIONS.items():
        pages = [st.Page(PAGE_FILES[k][0], title=PAGE_FILES[k][1], icon=PAGE_FILES[k][2],
                         url_path=PAGE_FILES[k][3], default=(k == "overview"))
                 for k in keys if k in allowed]
        if pages:
            nav[section] = pages
    page = st.navigation(nav)
    st.sidebar.markdown(note)
    if user.name != "local":
        st.sidebar.button("Sign out", on_click=sign_out, icon=":material/logout:")
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
