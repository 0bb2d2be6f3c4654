"""The sign-in page and who the current user is (password users, and SSO when configured).

Secrets are read in `app.py` only; it stores the `[shelfwise]` settings and whether SSO is
configured in the session (`SETTINGS_KEY`, `SSO_KEY`) before calling these.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from pages._shared import USER_KEY
from services import auth
from warehouse.db import WarehouseError

SETTINGS_KEY = "shelfwise_settings"
SSO_KEY = "shelfwise_sso"


@st.cache_resource(show_spinner=False)
def signin_limiter() -> auth.RateLimiter:
    """Failed sign-ins counted across every session and server process (a shared state file)."""
    return auth.shared_limiter()


def _settings() -> dict[str, Any]:
    return dict(st.session_state.get(SETTINGS_KEY) or {})


def _oidc_user() -> auth.User | None:
    """The role of a user signed in through `st.login`, from [shelfwise] oidc_roles."""
    if not getattr(st.user, "is_logged_in", False):
        return None
    email = str(st.user.get("email") or st.user.get("sub") or "")
    role = auth.oidc_role(email, _settings())
    return None if role is None else auth.User(email, role)


def signin_page() -> None:
    """The sign-in form (password users from the users file, and SSO when configured)."""
    st.title("Sign in to Shelfwise")
    if st.session_state.get(SSO_KEY):
        if getattr(st.user, "is_logged_in", False):
            st.error(
                f"{st.user.get('email', 'This account')} has no Shelfwise role; "
                "ask an admin to add it to [shelfwise] oidc_roles."
            )
            st.button("Sign out", on_click=st.logout)
        else:
            st.button(
                "Sign in with single sign-on",
                type="primary",
                on_click=st.login,
                icon=":material/key:",
            )
        st.divider()
    try:
        has_users = bool(auth.load_users())
    except WarehouseError as exc:
        st.error(str(exc))
        return
    if not has_users:
        st.info(
            f"No users yet: create one with `python -m services users add NAME --role "
            f"admin` (users file: {auth.users_path()})."
        )
    with st.form("signin"):
        name = st.text_input("User name", key="signin_name")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            client = getattr(st.context, "ip_address", None)
            client = client if isinstance(client, str) else None
            user = auth.authenticate(name, password, limiter=signin_limiter(), client=client)
        except (auth.SignInLocked, WarehouseError) as exc:
            st.error(str(exc))
            return
        if user is None:
            st.error("Wrong user name or password.")
            return
        st.session_state[USER_KEY] = user
        st.rerun()


def resolve_user() -> tuple[auth.User | None, str]:
    """(signed-in user or None, a sidebar note on how sign-in applies)."""
    address = st.get_option("server.address")
    if auth.signin_warning(address):
        st.sidebar.warning(auth.signin_warning(address))
    if not auth.signin_required(address):
        note = (
            "Sign-in off: local demo"
            + (f" on {address}" if address else "")
            + " (sign-in is on whenever the app listens beyond localhost, or with "
            "SHELFWISE_AUTH=1)."
        )
        return auth.User("local", "admin"), note
    user = st.session_state.get(USER_KEY)
    if isinstance(user, auth.User) and user.name != "local":
        return user, f"Signed in as **{user.name}** ({user.role})."
    oidc_user = _oidc_user()
    if oidc_user is not None:
        return oidc_user, f"Signed in as **{oidc_user.name}** ({oidc_user.role}, SSO)."
    return None, "Sign-in required."


def sign_out() -> None:
    """Forget the user of this session (and the SSO session)."""
    st.session_state.pop(USER_KEY, None)
    if getattr(st.user, "is_logged_in", False):
        st.logout()
