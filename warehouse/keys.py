"""API keys for the HTTP API: named keys with a role, stored only as SHA-256 hashes.

A token is `swk_` + 43 URL-safe characters (256 random bits), so a plain SHA-256 of it cannot be
reversed or guessed; it is shown once by `python -m warehouse keys add` and never stored. The
keys file is JSON, outside the repository beside the app's users file (`$SHELFWISE_KEYS`, else
`api_keys.json` in the folder of `$SHELFWISE_USERS`, else `~/.config/shelfwise/`), written
atomically with mode 0600. Revoked keys stay listed with their revocation time. Calls that return
customer-level data are appended to an audit log beside it (`api_audit.log`, JSON lines;
`$SHELFWISE_API_AUDIT` overrides).
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warehouse.db import WarehouseError
from warehouse.roles import ROLES, role_rank

KEYS_ENV = "SHELFWISE_KEYS"
AUDIT_ENV = "SHELFWISE_API_AUDIT"
USERS_ENV = "SHELFWISE_USERS"
TOKEN_PREFIX = "swk_"
KEYS_FILE = "api_keys.json"
AUDIT_FILE = "api_audit.log"
REPO_ROOT = Path(__file__).resolve().parents[1]
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


@dataclass(frozen=True)
class ApiKey:
    """One API key as stored: name, role, SHA-256 of the token, times, optional rate limit.

    Attributes:
        rate_per_s: sustained requests per second for this key (None: the server default).
        burst: requests allowed at once (None: the server default).
    """

    name: str
    role: str
    token_sha256: str
    created_at: str
    revoked_at: str | None = None
    rate_per_s: float | None = None
    burst: int | None = None

    @property
    def active(self) -> bool:
        """Whether the key is not revoked."""
        return self.revoked_at is None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def keys_path(env: Mapping[str, str] | None = None) -> Path:
    """The keys file: `$SHELFWISE_KEYS`, else beside the users file."""
    env = os.environ if env is None else env
    if env.get(KEYS_ENV):
        return Path(env[KEYS_ENV]).expanduser()
    users = env.get(USERS_ENV)
    folder = Path(users).expanduser().parent if users else Path.home() / ".config" / "shelfwise"
    return folder / KEYS_FILE


def audit_path(env: Mapping[str, str] | None = None) -> Path:
    """The audit log: `$SHELFWISE_API_AUDIT`, else `api_audit.log` beside the keys file."""
    env = os.environ if env is None else env
    if env.get(AUDIT_ENV):
        return Path(env[AUDIT_ENV]).expanduser()
    return keys_path(env).with_name(AUDIT_FILE)


def hash_token(token: str) -> str:
    """Hex SHA-256 of a token (what the keys file stores)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _outside_repo(path: Path) -> None:
    if path.resolve().is_relative_to(REPO_ROOT):
        raise WarehouseError(
            f"{path}: the keys file must live outside the repository (set ${KEYS_ENV})"
        )


def load_keys(path: Path | None = None) -> dict[str, ApiKey]:
    """name -> ApiKey. A missing file means no keys; a broken one raises WarehouseError."""
    path = path or keys_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = {str(name): ApiKey(**entry) for name, entry in data["keys"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise WarehouseError(f"{path}: not a valid keys file ({exc})") from exc
    for key in keys.values():
        if key.role not in ROLES:
            raise WarehouseError(f"{path}: key {key.name!r} has unknown role {key.role!r}")
    return keys


def save_keys(keys: Mapping[str, ApiKey], path: Path | None = None) -> None:
    """Write the keys file atomically (temp file + rename), readable by the owner only."""
    path = path or keys_path()
    _outside_repo(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = {"keys": {name: asdict(keys[name]) for name in sorted(keys)}}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(body, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of the keys file between processes."""
    _outside_repo(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def add_key(
    name: str,
    role: str,
    path: Path | None = None,
    *,
    rate_per_s: float | None = None,
    burst: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns (stored key, token). The token is not kept anywhere.

    Raises WarehouseError for a bad name or role, a bad limit, or an active key of that name.
    """
    path = path or keys_path()
    if not _NAME_RE.match(name):
        raise WarehouseError(f"key name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")
    try:
        role_rank(role)
    except ValueError as exc:
        raise WarehouseError(str(exc)) from None
    if rate_per_s is not None and not rate_per_s > 0:
        raise WarehouseError(f"--rate: must be > 0, got {rate_per_s}")
    if burst is not None and burst < 1:
        raise WarehouseError(f"--burst: must be at least 1, got {burst}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with _locked(path):
        keys = load_keys(path)
        if name in keys and keys[name].active:
            raise WarehouseError(f"key {name!r} exists; revoke it first (`keys revoke {name}`)")
        key = ApiKey(name, role, hash_token(token), _now(), None, rate_per_s, burst)
        keys[name] = key
        save_keys(keys, path)
    return key, token


def revoke_key(name: str, path: Path | None = None) -> ApiKey:
    """Mark a key revoked (it stays listed); unknown or already revoked names raise."""
    path = path or keys_path()
    with _locked(path):
        keys = load_keys(path)
        if name not in keys:
            raise WarehouseError(f"no key {name!r} in {path}")
        if not keys[name].active:
            raise WarehouseError(f"key {name!r} was already revoked at {keys[name].revoked_at}")
        keys[name] = replace(keys[name], revoked_at=_now())
        save_keys(keys, path)
    return keys[name]


def find_key(keys: Mapping[str, ApiKey], token: str) -> ApiKey | None:
    """The active key whose hash matches `token`, else None (constant-time hash comparison)."""
    digest = hash_token(token)
    found = None
    for key in keys.values():
        if hmac.compare_digest(key.token_sha256, digest) and key.active:
            found = key
    return found


def append_audit(record: Mapping[str, Any], path: Path | None = None) -> None:
    """Append one JSON line to the audit log (O_APPEND, one write, mode 0600)."""
    path = path or audit_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    line = (json.dumps(dict(record), sort_keys=True, default=str) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _cli_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m warehouse keys",
        description=f"HTTP API keys (file: ${KEYS_ENV}, else {KEYS_FILE} beside the users file).",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="create a key; prints the token once, on the last line")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--rate", type=float, help="requests per second (default: server's)")
    add.add_argument("--burst", type=int, help="requests at once (default: server's)")
    sub.add_parser("list", help="list keys, roles and revocations (never tokens)")
    revoke = sub.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("name")
    return parser


def keys_cli(argv: Sequence[str]) -> int:
    """`python -m warehouse keys add NAME --role R | list | revoke NAME`; returns exit code."""
    args = _cli_parser().parse_args(list(argv))
    path = keys_path()
    try:
        if args.action == "add":
            key, token = add_key(args.name, args.role, path, rate_per_s=args.rate, burst=args.burst)
            print(f"key {key.name!r} with role {key.role} saved (as a hash) in {path}")
            print("the token is shown only now; send it as `Authorization: Bearer TOKEN`:")
            print(token)
        elif args.action == "list":
            keys = load_keys(path)
            if not keys:
                print(
                    f"no keys in {path}; add one with `python -m warehouse keys add NAME "
                    "--role viewer`"
                )
            for name in sorted(keys):
                key = keys[name]
                state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
                print(f"{name:<24} {key.role:<13} created {key.created_at}  {state}")
        else:
            revoke_key(args.name, path)
            print(f"key {args.name!r} revoked in {path}")
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
