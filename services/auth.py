"""Sign-in for the app: users with argon2 password hashes and four roles.

Users live in a TOML file outside the repository (`$SHELFWISE_USERS`, else
`~/.config/shelfwise/users.toml`), one table per user::

    [users.alice]
    role = "analyst"
    hash = "$argon2id$v=19$m=65536,t=3,p=4$..."

Roles are ordered: each one sees what the roles before it see, plus its own pages. Failed
sign-ins are slowed down per client address and per user name with exponential delays
(`warehouse.ratelimit.SignInLimiter`, state shared by every server process through a small file).
A users file that other users can read or write is refused. Sign-in cannot be switched off
(`SHELFWISE_AUTH=0`) while the server listens beyond loopback. Nothing here imports streamlit;
`app.py` decides when sign-in applies (`signin_required`) and renders the form.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import ipaddress
import logging
import os
import re
import stat
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from warehouse.db import WarehouseError
from warehouse.ratelimit import SignInLimiter, SignInLocked  # noqa: F401 - re-exported
from warehouse.roles import ROLES, Role, parse_role, role_at_least, role_rank

LOG = logging.getLogger("shelfwise.auth")

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
#: Where the sign-in limiter keeps its shared state (default: next to the users file).
LIMITER_STATE_ENV = "SHELFWISE_AUTH_STATE"
MIN_PASSWORD_LENGTH = 8
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_LOCAL_NAMES = frozenset({"localhost", "ip6-localhost"})

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so timing does not reveal valid names."""
    return _hasher.hash("shelfwise-no-such-user")


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


#: The limiter type (kept under its old name for callers).
RateLimiter = SignInLimiter


def limiter_state_path(env: Mapping[str, str] | None = None) -> Path:
    """`$SHELFWISE_AUTH_STATE`, else `signin-limiter.json` next to the users file."""
    env = os.environ if env is None else env
    explicit = env.get(LIMITER_STATE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return users_path(env).with_name("signin-limiter.json")


def shared_limiter(env: Mapping[str, str] | None = None) -> SignInLimiter:
    """A limiter whose state file every server process on this host shares."""
    return SignInLimiter(state_path=limiter_state_path(env))


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


def is_loopback(address: str | None) -> bool:
    """Whether a bound address is loopback only: a loopback IP literal, or `localhost`.

    Parsed with `ipaddress`, so a host name such as `127.evil.example.com` is not local; empty
    (every interface), `0.0.0.0`, `::` and every other name or address are not local.
    """
    text = (address or "").strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


def signin_warning(server_address: str | None, env: Mapping[str, str] | None = None) -> str:
    """The warning when `SHELFWISE_AUTH=0` is ignored because the server is not loopback-only."""
    env = os.environ if env is None else env
    if env.get(AUTH_ENV, "").strip() == "0" and not is_loopback(server_address):
        shown = server_address or "every interface"
        return (
            f"{AUTH_ENV}=0 ignored: the server listens on {shown}, beyond loopback, so "
            "sign-in stays on (bind to 127.0.0.1 to run without sign-in)"
        )
    return ""


def signin_required(server_address: str | None, env: Mapping[str, str] | None = None) -> bool:
    """Whether the app must ask for sign-in.

    On when `SHELFWISE_AUTH=1`, or when the server listens beyond loopback (no address, which
    Streamlit binds to every interface, or any non-loopback address). `SHELFWISE_AUTH=0` turns it
    off only on a loopback address; beyond loopback it is ignored with a loud warning.
    """
    env = os.environ if env is None else env
    flag = env.get(AUTH_ENV, "").strip()
    if flag == "1":
        return True
    local = is_loopback(server_address)
    if flag == "0" and not local:
        LOG.warning(signin_warning(server_address, env))
        return True
    return not local


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
    _check_permissions(path)
    return users


def _check_permissions(path: Path) -> None:
    """Refuse a users file that group or other users may read or write (POSIX)."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise WarehouseError(
            f"{path}: the users file is readable or writable by other users (mode "
            f"{mode:04o}); run `chmod 600 {path}`"
        )


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
        raise WarehouseError(f"user name {name!r}: use 1-64 letters, digits, '_', '.', '@' or '-'")


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
    username: str,
    password: str,
    *,
    path: Path | None = None,
    limiter: SignInLimiter | None = None,
    client: str | None = None,
) -> User | None:
    """The user when the password matches its argon2 hash, else None.

    Args:
        username, password: what the user typed.
        path: the users file (default `users_path()`).
        limiter: the rate limiter (default: the shared, file-backed one).
        client: the client's address, for per-address delays and known clients.

    Raises SignInLocked (before checking the password) while the client address or the name is
    inside its delay. Unknown names cost the same hash verification as known ones.
    """
    limiter = limiter or shared_limiter()
    key = username.strip().lower()
    limiter.check(key, client)
    entry = load_users(path).get(username.strip())
    role, hashed = entry if entry else ("viewer", _dummy_hash())
    try:
        ok = _hasher.verify(hashed, password) and entry is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        limiter.record_failure(key, client)
        return None
    limiter.record_success(key, client)
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
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
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
                print(
                    f"no users in {path}; add one with `python -m services users add NAME "
                    "--role admin`"
                )
            for name in sorted(users):
                print(f"{name:<24} {users[name][0]}")
        else:
            remove_user(args.name, path)
            print(f"user {args.name!r} removed from {path}")
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
