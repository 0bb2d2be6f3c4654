"""services.auth: argon2 users file, roles and pages, when sign-in applies, rate limiting, CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services import auth
from warehouse.db import WarehouseError

REPO = Path(__file__).resolve().parents[1]


def test_roles_are_cumulative_and_match_the_contract() -> None:
    assert auth.allowed_pages("viewer") == ["overview", "sales", "forecasts", "inventory"]
    assert auth.allowed_pages("merchandiser") == [
        "overview",
        "sales",
        "recommendations",
        "forecasts",
        "inventory",
    ]
    assert set(auth.allowed_pages("analyst")) == set(auth.allowed_pages("merchandiser")) | {"sql"}
    assert auth.allowed_pages("admin") == list(auth.PAGES)
    assert not auth.page_allowed("admin", "no-such-page")
    with pytest.raises(WarehouseError, match="unknown role"):
        auth.allowed_pages("root")


@pytest.mark.parametrize(
    ("address", "env", "required"),
    [
        ("127.0.0.1", {}, False),
        ("localhost", {}, False),
        ("::1", {}, False),
        ("127.0.0.5", {}, False),
        (None, {}, True),  # Streamlit's default: every interface
        ("", {}, True),
        ("0.0.0.0", {}, True),
        ("192.168.1.20", {}, True),
        ("127.0.0.1", {"SHELFWISE_AUTH": "1"}, True),
        # issue 12: SHELFWISE_AUTH=0 cannot switch sign-in off beyond loopback
        ("0.0.0.0", {"SHELFWISE_AUTH": "0"}, True),
        ("127.0.0.1", {"SHELFWISE_AUTH": "0"}, False),
        ("127.evil.example.com", {}, True),
    ],
)
def test_signin_required(address: str | None, env: dict[str, str], required: bool) -> None:
    assert auth.signin_required(address, env) is required


def test_users_file_round_trip_and_authenticate(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "users.toml"
    auth.add_user("alice", "analyst", "s3cret-pass", path)
    auth.add_user("bob", "viewer", "another-pass", path)
    text = path.read_text()
    assert "s3cret-pass" not in text and "$argon2id$" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    limiter = auth.RateLimiter()
    user = auth.authenticate("alice", "s3cret-pass", path=path, limiter=limiter)
    assert user == auth.User("alice", "analyst")
    assert auth.authenticate("alice", "wrong", path=path, limiter=limiter) is None
    assert auth.authenticate("carol", "s3cret-pass", path=path, limiter=limiter) is None
    auth.remove_user("bob", path)
    assert set(auth.load_users(path)) == {"alice"}
    with pytest.raises(WarehouseError, match="no user 'bob'"):
        auth.remove_user("bob", path)


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("bad name", "viewer", "long-enough", "user name"),
        ("ok", "superuser", "long-enough", "unknown role"),
        ("ok", "viewer", "short", "at least 8"),
    ],
)
def test_add_user_rejects_bad_input(
    tmp_path: Path, name: str, role: str, password: str, message: str
) -> None:
    with pytest.raises(WarehouseError, match=message):
        auth.add_user(name, role, password, tmp_path / "users.toml")
    assert not (tmp_path / "users.toml").exists()


def test_broken_users_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    path.write_text("[users.x\nrole=")
    with pytest.raises(WarehouseError, match="not a valid users file"):
        auth.load_users(path)
    path.write_text('[users.x]\nrole = "viewer"\n')
    with pytest.raises(WarehouseError, match="needs a role and a hash"):
        auth.load_users(path)


def test_rate_limiter_delays_grow_and_end(tmp_path: Path) -> None:
    """Exponential delays (issue 12), not a fixed lock: free failures, then 4 s, 8 s..."""
    now = [1000.0]
    limiter = auth.SignInLimiter(clock=lambda: now[0])
    path = tmp_path / "users.toml"
    auth.add_user("dave", "admin", "right-password", path)
    for _ in range(4):
        assert auth.authenticate("dave", "nope", path=path, limiter=limiter) is None
    with pytest.raises(auth.SignInLocked, match="try again in 4 s"):
        auth.authenticate("dave", "right-password", path=path, limiter=limiter)
    limiter.check("erin")  # other names are not affected
    now[0] += 4.5
    assert auth.authenticate("dave", "right-password", path=path, limiter=limiter) == auth.User(
        "dave", "admin"
    )


def run_cli(args: list[str], users: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SHELFWISE_USERS": str(users)}
    return subprocess.run(
        [sys.executable, "-m", "services", "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


def test_users_cli_add_list_remove(tmp_path: Path) -> None:
    users = tmp_path / "users.toml"
    added = run_cli(
        ["add", "mia", "--role", "merchandiser", "--password-stdin"], users, "long-password\n"
    )
    assert added.returncode == 0, added.stderr
    assert auth.authenticate(
        "mia", "long-password", path=users, limiter=auth.RateLimiter()
    ) == auth.User("mia", "merchandiser")
    listed = run_cli(["list"], users)
    assert listed.returncode == 0 and "mia" in listed.stdout and "merchandiser" in listed.stdout
    short = run_cli(["add", "max", "--role", "viewer", "--password-stdin"], users, "short\n")
    assert short.returncode == 2 and "at least 8" in short.stderr
    missing = run_cli(["remove", "nobody"], users)
    assert missing.returncode == 2 and "no user 'nobody'" in missing.stderr
    assert run_cli(["remove", "mia"], users).returncode == 0
    assert auth.load_users(users) == {}


def test_oidc_role_maps_emails_case_insensitively_with_a_default() -> None:
    settings = {"oidc_roles": {"Ana@Example.com": "analyst"}, "oidc_default_role": "viewer"}
    assert auth.oidc_role("ana@example.com", settings) == "analyst"
    assert auth.oidc_role("bob@example.com", settings) == "viewer"
    assert auth.oidc_role("bob@example.com", {"oidc_roles": {}}) is None
    assert auth.oidc_role("eve@example.com", {"oidc_default_role": "owner"}) is None
