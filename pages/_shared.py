"""Shared helpers of the pages: the signed-in user, filters, empty states, the freshness banner.

`app.py` puts the live warehouse, the user and the global filters into `st.session_state` on
every run; pages read them here. Data comes from `pages._services` and
`pages._reads`; export buttons are in `pages._export`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import streamlit as st

from services.auth import PAGES, User, page_allowed
from services.dashboard import DataAge, Filters
from warehouse.db import WarehouseError
from warehouse.privacy import load_key
from warehouse.readers import LiveWarehouse

WAREHOUSE_KEY = "shelfwise_warehouse"
USER_KEY = "shelfwise_user"
FILTERS_KEY = "shelfwise_filters"
PRIVACY_KEY = "shelfwise_pseudonym_key"
T = TypeVar("T")


def warehouse() -> LiveWarehouse:
    """The live warehouse app.py opened for this run."""
    live = st.session_state.get(WAREHOUSE_KEY)
    if live is None:
        st.error("The app was opened without its entry point; run `streamlit run app.py`.")
        st.stop()
    return live


def db_path() -> Path:
    """Path of the warehouse in use."""
    return warehouse().path


def user() -> User | None:
    """The signed-in user (a local admin when sign-in is off)."""
    return st.session_state.get(USER_KEY)


def filters() -> Filters:
    """The global filters chosen in the sidebar."""
    return st.session_state[FILTERS_KEY]


def privacy_key() -> bytes:
    """The key of keyed-hash pseudonyms in exports: from secrets (set by app.py), else
    `warehouse.privacy.load_key()` ($SHELFWISE_PSEUDONYM_KEY or the key file outside the repo)."""
    key = st.session_state.get(PRIVACY_KEY)
    if key:
        return key
    return load_key()


def require(page: str) -> User:
    """Stop the page with a refusal unless the user's role may open `page` (a page key)."""
    current = user()
    if current is None or not page_allowed(current.role, page):
        role = current.role if current else "signed out"
        st.error(
            f"Access refused: this page needs the {PAGES.get(page, 'admin')} role (you are {role})."
        )
        st.stop()
    return current


def empty_state(message: str) -> NoReturn:
    """Show a clear empty state (as a sentence: the CLI's lower-case messages capitalised) and
    stop the page."""
    st.info(message[:1].upper() + message[1:], icon=":material/hourglass_empty:")
    st.stop()


def pick(where: Any, label: str, labels: Mapping[str, str], key: str, empty: str) -> str:
    """A selectbox (in `where`: `st`, a column, the sidebar) over `labels`' keys showing their
    labels; the chosen key. With nothing to choose, `empty` as the page's empty state."""
    if not labels:
        empty_state(empty)
    chosen = where.selectbox(label, list(labels), format_func=lambda k: labels.get(k, k), key=key)
    return str(chosen if chosen is not None else next(iter(labels)))


def guarded(fn: Callable[[], T], *errors: type[BaseException]) -> T:
    """Run `fn`; on one of `errors` (a package's No*Error) show its message as the empty state."""
    try:
        return fn()
    except errors as exc:
        empty_state(str(exc))
    except WarehouseError as exc:
        st.error(str(exc))
        st.stop()


def freshness_banner(age: DataAge, today: date | None = None) -> None:
    """A warning banner when the data or the plan are more than a week old."""
    notes = age.stale(today or date.today())
    if notes:
        st.warning(
            "Data may be out of date: " + "; ".join(notes) + ". Load new files and "
            "refresh under Data & models.",
            icon=":material/update:",
        )
