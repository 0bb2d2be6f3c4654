"""The navigation `app.py` routes through: the sign-in page alone, or the pages a role may open.

`app.py` keeps the page table (file, title, icon, url path) and the sections; this module starts
the session (the settings app.py read from secrets, who the user is) and builds `st.navigation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from pages._shared import PRIVACY_KEY, USER_KEY
from pages._sign_in import SETTINGS_KEY, SSO_KEY, resolve_user, signin_page
from services.auth import User, allowed_pages


def _switch_to(target: StreamlitPage) -> Callable[[], None]:
    """A page body that opens `target` (an old URL's alias)."""

    def switch() -> None:
        st.switch_page(target)

    return switch


def start_session(settings: dict[str, Any], sso: bool) -> tuple[User | None, str]:
    """Store the `[shelfwise]` settings and SSO flag, then (user or None, the sidebar note)."""
    st.session_state[SETTINGS_KEY], st.session_state[SSO_KEY] = settings, sso
    user, note = resolve_user()
    if user is not None:
        st.session_state[USER_KEY] = user
        key = settings.get("pseudonym_key")  # None: warehouse.privacy.load_key() finds the key
        st.session_state[PRIVACY_KEY] = str(key).encode() if key else None
    return user, note


#: Old links -> the page key they open (hidden aliases; see `aliases`).
OLD_LINKS: dict[str, str] = {"dashboard": "overview"}


def aliases(page_files: Mapping[str, tuple[str, str, str, str]]) -> dict[str, str]:
    """Hidden URL path -> page key: the old links and each page's key where it differs from the
    page's URL path (`/forecasts` -> Forecasts at `/forecast`)."""
    return {**OLD_LINKS, **{k: k for k, files in page_files.items() if k != files[3]}}


def signin_navigation(page_files: Mapping[str, tuple[str, str, str, str]]) -> StreamlitPage:
    """The navigation of a signed-out session: the sign-in page, also (hidden) at every URL a
    page answers to, so a deep link asks to sign in instead of showing "Page not found"."""
    url_paths = [*(files[3] for files in page_files.values()), *aliases(page_files)]
    signin = st.Page(
        signin_page, title="Sign in", icon=":material/login:", url_path="signin", default=True
    )
    hidden = [
        st.Page(signin_page, title="Sign in", url_path=path, visibility="hidden")
        for path in dict.fromkeys(url_paths)
        if path != "signin"
    ]
    return st.navigation([signin, *hidden])


def role_navigation(
    role: str,
    page_files: Mapping[str, tuple[str, str, str, str]],
    sections: Mapping[str, tuple[str, ...]],
) -> StreamlitPage:
    """The pages `role` may open, by section; Overview is the default. Hidden aliases open a
    page from an old or guessable link: `/dashboard` (Overview) and each page's key
    (`/forecasts`, `/inventory`, ...) where it differs from the page's URL path."""
    allowed = set(allowed_pages(role))
    pages = {
        k: st.Page(
            page_files[k][0],
            title=page_files[k][1],
            icon=page_files[k][2],
            url_path=page_files[k][3],
            default=(k == "overview"),
        )
        for keys in sections.values()
        for k in keys
        if k in allowed
    }
    nav = {section: [pages[k] for k in keys if k in pages] for section, keys in sections.items()}
    nav["Dashboards"] += [
        st.Page(
            _switch_to(pages[key]),
            title=page_files[key][1],
            url_path=alias,
            visibility="hidden",
        )
        for alias, key in aliases(page_files).items()
        if key in pages
    ]
    return st.navigation({section: items for section, items in nav.items() if items})
