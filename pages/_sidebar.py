"""The sidebar: how sign-in applies, sign-out, the warehouse in use and the global filters.

Filters are kept in `st.session_state` across pages (`flt_dates`, `flt_stores`,
`flt_categories`).
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from pages import _reads as dash
from pages._shared import FILTERS_KEY
from pages._sign_in import sign_out
from services.auth import User
from services.dashboard import Filters
from warehouse.readers import LiveWarehouse

DEFAULT_DAYS = 90


def sidebar_user(user: User, note: str) -> None:
    """The sign-in note and, for a signed-in user, a sign-out button."""
    st.sidebar.markdown(note)
    if user.name != "local":
        st.sidebar.button("Sign out", on_click=sign_out, icon=":material/logout:")


def sidebar_filters(live: LiveWarehouse) -> Filters:
    """Warehouse in use, data range and the global filters; kept in session_state across pages."""
    span = dash.data_range()  # cached per warehouse file generation
    stores, categories = dash.filter_options()
    st.sidebar.caption(f"Warehouse **{live.path.name}** · `{live.path}`")
    if span.first_day is None or span.last_day is None:
        st.sidebar.warning("The warehouse has no sales yet.")
        today = date.today()
        return Filters(today, today)
    st.sidebar.caption(
        f"Data {span.first_day} → {span.last_day} · {span.stores:,} stores · "
        f"{span.products:,} products · {span.customers:,} customers"
    )
    first, last = span.first_day, span.last_day
    default = (max(first, last - timedelta(days=DEFAULT_DAYS - 1)), last)
    chosen = st.session_state.get("flt_dates")
    if not (isinstance(chosen, tuple) and chosen and all(first <= d <= last for d in chosen)):
        st.session_state["flt_dates"] = default  # first run, or the data range moved
    for key, options in (("flt_stores", stores), ("flt_categories", categories)):
        st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options]
    with st.sidebar.expander("Filters", expanded=True, icon=":material/filter_alt:"):
        dates = st.date_input("Date range", min_value=first, max_value=last, key="flt_dates")
        picked = st.multiselect(
            "Stores",
            list(stores),
            format_func=lambda s: stores.get(s, s),
            key="flt_stores",
            placeholder="All stores",
        )
        cats = st.multiselect(
            "Categories", categories, key="flt_categories", placeholder="All categories"
        )
    if isinstance(dates, tuple) and len(dates) == 2:
        start, end = dates
        st.sidebar.caption(f"Period: {start:%d %b %Y} → {end:%d %b %Y}")
    else:  # the user is half-way through picking a range
        start, end = st.session_state.get(FILTERS_KEY, Filters(*default)).start, last
        if isinstance(dates, tuple) and dates:
            start = dates[0]
    return Filters(start, end, tuple(picked), tuple(cats))
