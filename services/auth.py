"""Sign-in for the app: users with argon2 password hashes and four roles.

Users live in a TOML file outside the repository (`$SHELFWISE_USERS`, else
`~/.config/shelfwise/users.toml`), one table per user::

    [users.alice]
    role = "analyst"
    hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

Roles are ordered: each one sees what the roles before it see, plus its own pages. Failed
sign-ins are rate limited per user name (`RateLimiter`). Nothing here imports streamlit; `app.py`
decides when sign-in applies (`signin_required`) and renders the form.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import os
import re
import sys
import threading
import time
import tomllib
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from warehouse.db import WarehouseError
from warehouse.roles import ROLES, Role, parse_role, role_at_least, role_rank

__all__ = ["ROLES", "Role", "parse_role", "role_at_least", "role_rank"]  # re-exported for callers

#: Page key -> the least role that may open it, in navigation order.
PAGES: dict[str, Role] = {
    "overview": "viewer",
    "sales": "viewer",
    "recommendations": "merchandiser",
    "forecasts": "viewer",
    "inventory": "viewer",
    "sql": "analyst",
    "data": "admin",
}

#: Roles allowed to export customer ids (recommendation lists).
CUSTOMER_EXPORT_ROLE: Role = "merchandiser"

USERS_ENV = "SHELFWISE_USERS"
AUTH_ENV = "SHELFWISE_AUTH"
MIN_PASSWORD_LENGTH = 8
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_LOCAL_ADDRESSES = frozenset({"localhost", "::1", "ip6-localhost"})

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not reveal valid names."""
    return _hasher.hash("shelfwise-no-such-user")


class SignInLocked(WarehouseError):
    """Too many failed sign-ins for a name; carries the seconds to wait."""

    def __init__(self, username: str, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        wait_s = max(1, round(retry_after_s))
        super().__init__(f"too many failed sign-ins for {username!r}; try again in {wait_s} s")


@dataclass(frozen=True)
class User:
    """A signed-in user: name and role (one of ROLES)."""

    name: str
    role: Role

    def __post_init__(self) -> None:
        role_rank(self.role)

    def may_open(self, page: str) -> bool:
        """Whether this user's role may open page key `page`."""
        return page_allowed(self.role, page)


@dataclass
class RateLimiter:
    """At most `max_failures` failed sign-ins per name within `window_s`; then wait.

    Thread-safe; one instance is shared by every session of the app process.
    """

    max_failures: int = 5
    window_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window_s <= 0:
            raise ValueError("RateLimiter: max_failures must be >= 1 and window_s > 0")

    def check(self, key: str) -> None:
        """Raise SignInLocked when `key` has used up its failures in the window."""
        with self._lock:
            recent = self._prune(key)
            if len(recent) >= self.max_failures:
                raise SignInLocked(key, recent[0] + self.window_s - self.clock())

    def record_failure(self, key: str) -> None:
        """Count one failed attempt for `key`."""
        with self._lock:
            self._prune(key).append(self.clock())

    def reset(self, key: str) -> None:
        """Forget the failures of `key` (after a successful sign-in)."""
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self, key: str) -> deque[float]:
        recent = self._failures.setdefault(key, deque())
        cutoff = self.clock() - self.window_s
        while recent and recent[0] <= cutoff:
            recent.popleft()
        return recent


DEFAULT_LIMITER = RateLimiter()


def page_allowed(role: str, page: str) -> bool:
    """Whether `role` may open page key `page` (unknown pages: never)."""
    needed = PAGES.get(page)
    return needed is not None and role_at_least(role, needed)


def allowed_pages(role: str) -> list[str]:
    """Page keys `role` may open, in navigation order."""
    return [page for page in PAGES if page_allowed(role, page)]


def oidc_role(email: str, settings: Mapping[str, Any]) -> Role | None:
    """Role of a single-sign-on user from the `[shelfwise]` secrets; None when it has none.

    `settings["oidc_roles"]` maps e-mail (any case) to role; `oidc_default_role` applies to
    other addresses. A role that is not one of ROLES counts as none.
    """
    roles = {str(k).lower(): str(v) for k, v in dict(settings.get("oidc_roles", {})).items()}
    role = roles.get(email.lower(), settings.get("oidc_default_role"))
    return parse_role(role) if role in ROLES else None


def signin_required(server_address: str | None, env: Mapping[str, str] | None = None) -> bool:
    """Whether the app must ask for sign-in.

    On when `SHELFWISE_AUTH=1`, or when the server listens beyond localhost (no address, which
    Streamlit binds to every interface, or any non-loopback address). `SHELFWISE_AUTH=0` turns it
    off explicitly (e.g. behind a proxy that authenticates).
    """
    env = os.environ if env is None else env
    flag = env.get(AUTH_ENV, "").strip()
    if flag == "1":
        return True
    if flag == "0":
        return False
    address = (server_address or "").strip().strip("[]").lower()
    if not address:
        return True
    return not (address in _LOCAL_ADDRESSES or address.startswith("127."))


def users_path(env: Mapping[str, str] | None = None) -> Path:
    """The users file: `$SHELFWISE_USERS`, else `~/.config/shelfwise/users.toml`."""
    env = os.environ if env is None else env
    explicit = env.get(USERS_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return Path.home() / ".config" / "shelfwise" / "users.toml"


def load_users(path: Path | None = None) -> dict[str, tuple[str, str]]:
    """name -> (role, argon2 hash). A missing file means no users; a broken one raises."""
    path = path or users_path()
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WarehouseError(f"{path}: not a valid users file ({exc})") from exc
    users: dict[str, tuple[str, str]] = {}
    for name, entry in (data.get("users") or {}).items():
        if not isinstance(entry, dict) or "role" not in entry or "hash" not in entry:
            raise WarehouseError(f"{path}: user {name!r} needs a role and a hash")
        role_rank(str(entry["role"]))
        users[str(name)] = (str(entry["role"]), str(entry["hash"]))
    return users


def save_users(users: Mapping[str, tuple[str, str]], path: Path | None = None) -> None:
    """Write the users file atomically (temp file + rename), readable by the owner only."""
    path = path or users_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Shelfwise app users: `python -m services users add|list|remove`", ""]
    for name in sorted(users):
        role, hashed = users[name]
        lines += [f'[users."{name}"]', f'role = "{role}"', f'hash = "{hashed}"', ""]
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    os.replace(tmp, path)


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name):
        raise WarehouseError(
            f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'"
        )


def add_user(name: str, role: str, password: str, path: Path | None = None) -> User:
    """Create or replace a user with a fresh argon2 hash of `password`."""
    _check_name(name)
    user = User(name, parse_role(role))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WarehouseError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    users = load_users(path)
    users[name] = (role, _hasher.hash(password))
    save_users(users, path)
    return user


def remove_user(name: str, path: Path | None = None) -> None:
    """Delete a user; an unknown name raises WarehouseError."""
    users = load_users(path)
    if name not in users:
        raise WarehouseError(f"no user {name!r} in {path or users_path()}")
    del users[name]
    save_users(users, path)


def authenticate(
    username: str, password: str, *, path: Path | None = None,
    limiter: RateLimiter | None = None,
) -> User | None:
    """The user when the password matches its argon2 hash, else None.

    Raises SignInLocked (before checking the password) when the name had too many recent
    failures. Unknown names cost the same hash verification as known ones.
    """
    limiter = limiter or DEFAULT_LIMITER
    key = username.strip().lower()
    limiter.check(key)
    entry = load_users(path).get(username.strip())
    role, hashed = entry if entry else ("viewer", _dummy_hash())
    try:
        ok = _hasher.verify(hashed, password) and entry is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        limiter.record_failure(key)
        return None
    limiter.reset(key)
    return User(username.strip(), parse_role(role))


def _cli_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m services users",
        description=f"App sign-in users (file: ${USERS_ENV} or ~/.config/shelfwise/users.toml).",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="add or replace a user (password asked twice)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    sub.add_parser("list", help="list users and roles")
    remove = sub.add_parser("remove", help="delete a user")
    remove.add_argument("name")
    return parser


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise WarehouseError("passwords do not match")
    return first


def users_cli(argv: Sequence[str]) -> int:
    """`python -m services users add NAME --role R | list | remove NAME`; returns exit code."""
    args = _cli_parser().parse_args(list(argv))
    path = users_path()
    try:
        if args.action == "add":
            user = add_user(args.name, args.role, _read_password(args.password_stdin), path)
            print(f"user {user.name!r} saved with role {user.role} in {path}")
        elif args.action == "list":
            users = load_users(path)
            if not users:
                print(f"no users in {path}; add one with `python -m services users add NAME "
                      "--role admin`")
            for name in sorted(users):
                print(f"{name:<24} {users[name][0]}")
        else:
            remove_user(args.name, path)
            print(f"user {args.name!r} removed from {path}")
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
