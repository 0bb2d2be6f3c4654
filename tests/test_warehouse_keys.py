"""API keys: stored only as hashes, atomic 0600 file beside the users file, revocation, the CLI;
the per-key token bucket of the API with a controlled clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse.db import WarehouseError
from warehouse.keys import (
    TOKEN_PREFIX,
    add_key,
    append_audit,
    audit_path,
    find_key,
    hash_token,
    keys_path,
    load_keys,
    revoke_key,
)
from warehouse.roles import ROLES, role_at_least

REPO = Path(__file__).resolve().parents[1]


def test_roles_are_ordered() -> None:
    assert ROLES == ("viewer", "merchandiser", "analyst", "admin")
    assert role_at_least("admin", "analyst") and role_at_least("viewer", "viewer")
    assert not role_at_least("merchandiser", "analyst")
    with pytest.raises(WarehouseError, match="unknown role"):  # the one roles contract
        role_at_least("root", "viewer")


def test_paths_follow_the_users_file_and_env() -> None:
    assert keys_path({"SHELFWISE_USERS": "/x/y/users.toml"}) == Path("/x/y/api_keys.json")
    assert keys_path({"SHELFWISE_KEYS": "/k/keys.json"}) == Path("/k/keys.json")
    assert audit_path({"SHELFWISE_KEYS": "/k/keys.json"}) == Path("/k/api_audit.log")
    assert keys_path({}).parent == Path.home() / ".config" / "shelfwise"


def test_add_find_revoke_store_only_hashes(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "api_keys.json"
    key, token = add_key("shop", "merchandiser", path)
    assert token.startswith(TOKEN_PREFIX) and len(token) >= 40
    text = path.read_text()
    assert token not in text and hash_token(token) in text
    assert path.stat().st_mode & 0o777 == 0o600
    assert find_key(load_keys(path), token) == key
    assert find_key(load_keys(path), token + "x") is None
    with pytest.raises(WarehouseError, match="revoke it first"):
        add_key("shop", "viewer", path)
    revoke_key("shop", path)
    assert find_key(load_keys(path), token) is None
    assert load_keys(path)["shop"].revoked_at
    with pytest.raises(WarehouseError, match="already revoked"):
        revoke_key("shop", path)
    _, again = add_key("shop", "viewer", path)  # a revoked name may be reissued
    assert find_key(load_keys(path), again).role == "viewer"  # type: ignore[union-attr]
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("name", "role", "words"),
    [
        ("bad name!", "viewer", "key name"),
        ("ok", "root", "unknown role"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, name: str, role: str, words: str) -> None:
    with pytest.raises(WarehouseError, match=words):
        add_key(name, role, tmp_path / "k.json")
    assert not (tmp_path / "k.json").exists()


def test_keys_file_inside_the_repo_is_refused() -> None:
    with pytest.raises(WarehouseError, match="outside the repository"):
        add_key("x", "viewer", REPO / "api_keys.json")
    assert not (REPO / "api_keys.json").exists()


def test_audit_lines_append(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    append_audit({"key": "a", "route": "/r"}, log)
    append_audit({"key": "b", "route": "/r"}, log)
    assert [json.loads(line)["key"] for line in log.read_text().splitlines()] == ["a", "b"]
    assert log.stat().st_mode & 0o777 == 0o600


def test_cli_prints_the_token_alone_on_the_last_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "SHELFWISE_KEYS": str(tmp_path / "k.json")}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "warehouse", "keys", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    added = cli("add", "erp", "--role", "viewer")
    assert added.returncode == 0, added.stderr
    token = added.stdout.splitlines()[-1]
    assert token.startswith(TOKEN_PREFIX) and " " not in token
    assert find_key(load_keys(tmp_path / "k.json"), token) is not None
    listed = cli("list").stdout
    assert "erp" in listed and "viewer" in listed and token not in listed
    assert cli("revoke", "erp").returncode == 0
    assert "revoked" in cli("list").stdout
    bad = cli("revoke", "nobody")
    assert bad.returncode == 2 and bad.stderr.startswith("error: no key 'nobody'")


def test_token_bucket_allows_a_burst_then_waits() -> None:
    pytest.importorskip("fastapi")
    from services.api_deps import RateLimiter
    from warehouse.keys import ApiKey

    now = [100.0]
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=lambda: now[0])
    key = ApiKey("k", "viewer", "h", "t")
    assert [limiter.take_key(key) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take_key(key) == pytest.approx(0.5)
    now[0] += 0.5
    assert limiter.take_key(key) == 0.0
    own = ApiKey("own", "viewer", "h2", "t", rate_per_s=1.0, burst=1)
    assert limiter.take_key(own) == 0.0 and limiter.take_key(own) == pytest.approx(1.0)


def test_token_bucket_is_shared_by_every_process_through_its_state_file(tmp_path: Path) -> None:
    """Two limiters on one state file (two server workers) spend one bucket; so does another
    process."""
    from warehouse.ratelimit import KeyRateLimiter

    now = [100.0]
    state = tmp_path / "rate.json"
    first, second = (
        KeyRateLimiter(rate_per_s=0.001, burst=4, state_path=state, clock=lambda: now[0])
        for _ in range(2)
    )
    assert [first.take("k"), second.take("k"), first.take("k")] == [0.0, 0.0, 0.0]
    code = (
        "import sys; from pathlib import Path; from warehouse.ratelimit import KeyRateLimiter; "
        "lim = KeyRateLimiter(rate_per_s=0.001, burst=4, state_path=Path(sys.argv[1]), "
        "clock=lambda: 100.0); print(lim.take('k'), lim.take('k'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(state)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    ).stdout.split()
    assert float(out[0]) == 0.0 and float(out[1]) > 0  # the 4th request, then the 5th refused
    assert second.take("k") == pytest.approx(1000.0)  # the bucket is empty for everyone
    assert second.take("other") == 0.0  # another key has its own bucket
