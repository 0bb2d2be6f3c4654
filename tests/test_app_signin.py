"""Sign-in in the app (AppTest): wrong passwords refused, each role sees exactly its pages,
direct visits to forbidden pages refused, failed attempts rate limited, SSO role mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from services.auth import add_user

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PASSWORD = "correct horse battery"
#: Page titles each role must see, exactly.
EXPECTED: dict[str, set[str]] = {
    "viewer": {"Overview", "Sales explorer", "Forecasts", "Inventory"},
    "merchandiser": {"Overview", "Sales explorer", "Forecasts", "Inventory", "Recommendations"},
    "analyst": {
        "Overview",
        "Sales explorer",
        "Forecasts",
        "Inventory",
        "Recommendations",
        "SQL workbench",
    },
    "admin": {
        "Overview",
        "Sales explorer",
        "Forecasts",
        "Inventory",
        "Recommendations",
        "SQL workbench",
        "Data & models",
    },
}


PAGE_FILES = {
    "sql-workbench": "pages/sql.py",
    "recommend": "pages/recommendations.py",
    "data-models": "pages/data.py",
}


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.toml"
    for role in EXPECTED:
        add_user(f"{role}1", role, PASSWORD, path)
    return path


@pytest.fixture()
def app(
    monkeypatch: pytest.MonkeyPatch, demo_db_master: Path, users_file: Path, tmp_path: Path
) -> AppTest:
    monkeypatch.setenv("SHELFWISE_DB", str(demo_db_master))
    monkeypatch.setenv("SHELFWISE_AUTH_STATE", str(tmp_path / "limiter.json"))  # per test
    monkeypatch.setenv("SHELFWISE_USERS", str(users_file))
    monkeypatch.delenv("SHELFWISE_AUTH", raising=False)  # server.address unset: all interfaces
    st.cache_resource.clear()  # a fresh sign-in rate limiter per test
    return AppTest.from_file(APP, default_timeout=120)


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="signin_name").set_value(name)
    at.text_input(key="signin_password").set_value(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def page_titles(at: AppTest) -> set[str]:
    return {str(info.get("page_name")) for info in at._registered_pages.values()}


def test_signin_is_required_beyond_localhost_and_shows_nothing_else(app: AppTest) -> None:
    app.run()
    assert app.title[0].value == "Sign in to Shelfwise"
    assert not app.metric
    assert page_titles(app) == {"Sign in"}


def test_wrong_password_and_unknown_user_are_refused(app: AppTest) -> None:
    app.run()
    sign_in(app, "admin1", "not the password")
    assert any("Wrong user name or password" in e.value for e in app.error)
    assert app.title[0].value == "Sign in to Shelfwise"
    sign_in(app, "nobody", PASSWORD)
    assert any("Wrong user name or password" in e.value for e in app.error)
    assert page_titles(app) == {"Sign in"}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_exactly_its_pages(app: AppTest, role: str) -> None:
    app.run()
    sign_in(app, f"{role}1", PASSWORD)
    assert app.title[0].value == "Overview"
    assert page_titles(app) == EXPECTED[role]
    assert any(f"{role}1" in m.value and role in m.value for m in app.sidebar.markdown)


@pytest.mark.parametrize(
    ("role", "url_path", "title"),
    [
        ("viewer", "sql-workbench", "SQL workbench"),
        ("viewer", "recommend", "Recommendations"),
        ("merchandiser", "data-models", "Data & models"),
        ("analyst", "data-models", "Data & models"),
    ],
)
def test_direct_visit_to_a_forbidden_page_is_refused(
    app: AppTest, role: str, url_path: str, title: str
) -> None:
    app.run()
    sign_in(app, f"{role}1", PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app.switch_page(PAGE_FILES[url_path])  # not in this role's navigation
    app._page_hash = calc_hash(url_path)  # what a browser opening /<url_path> requests
    app.run()
    assert not app.exception
    assert app.title[0].value == "Overview"  # Streamlit's "page not found", then the default
    assert title not in {t.value for t in app.title}


def test_page_script_run_without_app_refuses(
    monkeypatch: pytest.MonkeyPatch, demo_db_master: Path
) -> None:
    """Even run on its own (no app.py, no user in the session), a page refuses to render."""
    monkeypatch.setenv("SHELFWISE_DB", str(demo_db_master))
    page = Path(APP).parent / "pages" / "sql.py"
    at = AppTest.from_file(str(page), default_timeout=60).run()
    assert not at.exception
    assert any("Access refused" in e.value for e in at.error)
    assert not at.text_area


def test_failed_signins_are_rate_limited(app: AppTest) -> None:
    app.run()
    for _ in range(5):
        sign_in(app, "viewer1", "wrong password")
    sign_in(app, "viewer1", PASSWORD)  # even the right password waits now
    assert any("too many failed sign-ins" in e.value for e in app.error)
    assert app.title[0].value == "Sign in to Shelfwise"


def test_sign_out_returns_to_the_signin_page(app: AppTest) -> None:
    app.run()
    sign_in(app, "analyst1", PASSWORD)
    app.sidebar.button[0].click().run()
    assert app.title[0].value == "Sign in to Shelfwise"


def test_sso_user_gets_the_role_mapped_in_secrets(app: AppTest) -> None:
    app.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "id",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid",
    }
    app.secrets["shelfwise"] = {"oidc_roles": {"ana@example.com": "analyst"}}
    app.user = {"is_logged_in": True, "email": "ana@example.com"}
    app.run()
    assert not app.exception
    assert page_titles(app) == EXPECTED["analyst"]


def test_sso_user_without_a_role_is_refused(app: AppTest) -> None:
    app.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "id",
        "client_secret": "s",
        "server_metadata_url": "https://idp.example/.well-known/openid",
    }
    app.user = {"is_logged_in": True, "email": "eve@example.com"}
    app.run()
    assert page_titles(app) == {"Sign in"}
    assert any("has no Shelfwise role" in e.value for e in app.error)
