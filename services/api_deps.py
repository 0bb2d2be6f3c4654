"""HTTP API glue: settings, key checks, roles, the per-key rate limit, audit, error handlers.

Keys come from `warehouse.keys` (the file is re-read when it changes, so `keys revoke` takes
effect on the next request). The rate limit is a token bucket per key
(`warehouse.ratelimit.KeyRateLimiter`) kept in a small state file beside the keys file
(`$SHELFWISE_API_RATE_STATE` overrides it) under a `flock`, so it holds across every worker
process of the server (`uvicorn --workers N`) on one host.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from forecasting.errors import NoForecastError, NoPlanError
from recsys.errors import NoModelError, RecsysError
from services.api_core import BadRequest, NotFound
from services.api_models import ErrorResponse
from warehouse.db import NotApplicableError, WarehouseError, resolve_db_path
from warehouse.keys import ApiKey, append_audit, audit_path, find_key, keys_path, load_keys
from warehouse.ratelimit import KeyRateLimiter
from warehouse.roles import ROLES, Role, role_at_least
from warehouse.sandbox import SandboxRefusal

RATE_ENV = "SHELFWISE_API_RATE"
RATE_STATE_ENV = "SHELFWISE_API_RATE_STATE"
RATE_STATE_FILE = "api_ratelimit.json"
BURST_ENV = "SHELFWISE_API_BURST"
DEFAULT_RATE_PER_S = 20.0
DEFAULT_BURST = 40


class ApiError(Exception):
    """An error answered as `{"error": {"code", "message"}}` with `status`."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class RateLimiter(KeyRateLimiter):
    """The per-key request limit (`warehouse.ratelimit.KeyRateLimiter`) taking an `ApiKey`."""

    def take_key(self, key: ApiKey) -> float:
        """0 when `key` may call now, else seconds to wait (its own limits or the defaults)."""
        return self.take(key.name, key.rate_per_s, key.burst)


class KeyStore:
    """The keys file, re-read whenever its inode, size or mtime changes (one stat a request)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sig: tuple[int, int, int] | None = None
        self._keys: dict[str, ApiKey] = {}
        self._lock = threading.Lock()

    def lookup(self, token: str) -> ApiKey | None:
        """The active key for `token`, else None."""
        try:
            st = os.stat(self.path)
            sig: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            sig = None
        with self._lock:
            if sig != self._sig:
                self._keys = load_keys(self.path) if sig else {}
                self._sig = sig
            keys = self._keys
        return find_key(keys, token)


@dataclass
class Settings:
    """Where the API reads from: warehouse, keys file, audit log, default rate limit."""

    db: Path
    keys: KeyStore
    audit: Path
    limiter: RateLimiter


def rate_state_path() -> Path:
    """The shared rate-limit state: `$SHELFWISE_API_RATE_STATE`, else beside the keys file."""
    if os.environ.get(RATE_STATE_ENV):
        return Path(os.environ[RATE_STATE_ENV]).expanduser()
    return keys_path().with_name(RATE_STATE_FILE)


def settings_from_env() -> Settings:
    """Settings from `$SHELFWISE_DB`, `$SHELFWISE_KEYS`, `$SHELFWISE_API_AUDIT`, the rate and
    its shared state file."""
    try:
        rate = float(os.environ.get(RATE_ENV) or DEFAULT_RATE_PER_S)
        burst = int(os.environ.get(BURST_ENV) or DEFAULT_BURST)
    except ValueError as exc:
        raise WarehouseError(f"${RATE_ENV} / ${BURST_ENV}: not a number ({exc})") from None
    if rate <= 0 or burst < 1:
        raise WarehouseError(f"${RATE_ENV} must be > 0 and ${BURST_ENV} >= 1")
    return Settings(
        db=resolve_db_path(None).resolve(),
        keys=KeyStore(keys_path()),
        audit=audit_path(),
        limiter=RateLimiter(rate, burst, state_path=rate_state_path()),
    )


SETTINGS = settings_from_env()
bearer = HTTPBearer(auto_error=False, description="an API key: `python -m warehouse keys add`")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


def db_path() -> Path:
    """The warehouse the API serves."""
    return SETTINGS.db


def require(role: Role, *, audit: bool = False) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency: a valid key (401), not rate limited (429), with `role` or above (403).

    With `audit`, the call is appended to the audit log (key, role, route, path, time).
    """

    async def dependency(request: Request, cred: Bearer) -> ApiKey:
        # on the event loop: a few short file operations, cheaper than a thread hand-off
        challenge = {"WWW-Authenticate": "Bearer"}
        if cred is None:
            raise ApiError(
                401, "unauthorized", "send an API key: `Authorization: Bearer TOKEN`", challenge
            )
        key = SETTINGS.keys.lookup(cred.credentials)
        if key is None:
            raise ApiError(401, "unauthorized", "the API key is unknown or revoked", challenge)
        wait = SETTINGS.limiter.take_key(key)
        if wait > 0:
            seconds = max(1, int(wait + 0.999))
            raise ApiError(
                429,
                "rate_limited",
                f"too many requests for key {key.name!r}; retry in {seconds} s",
                {"Retry-After": str(seconds)},
            )
        if key.role not in ROLES or not role_at_least(key.role, role):
            raise ApiError(
                403,
                "forbidden",
                f"this route needs the {role} role; key {key.name!r} is {key.role}",
            )
        if audit:
            route = request.scope.get("route")
            append_audit(
                {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "key": key.name,
                    "role": key.role,
                    "method": request.method,
                    "route": getattr(route, "path", request.url.path),
                    "path": request.url.path,
                },
                SETTINGS.audit,
            )
        return key

    return dependency


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in (
        (400, "refused (e.g. a SQL query the sandbox does not allow)"),
        (401, "no API key, or an unknown or revoked one"),
        (403, "the key's role is too low for this route"),
        (404, "no such customer, product or series"),
        (422, "invalid parameters or body"),
        (429, "rate limit of the key reached; see the Retry-After header"),
        (500, "internal error"),
        (
            503,
            "not ready: no model, forecast or plan built yet (or none can be made from this "
            "data: `not_applicable`), or no warehouse",
        ),
    )
}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error shape: `{"error": {"code": ..., "message": ...}}`."""
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    if first.get("type") == "json_invalid":
        loc = loc[:1]  # ("body", <character offset>)
    where = ".".join(loc)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or 'request'}: {first.get('msg', 'invalid')}{more}"


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error, framework or ours, in the one JSON error shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        return error_response(
            exc.status_code, code, str(exc.detail), dict(exc.headers) if exc.headers else None
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", _validation_message(exc))

    mapping: list[tuple[type[Exception], int, str]] = [
        (NotFound, 404, "not_found"),
        (BadRequest, 422, "invalid_request"),
        (SandboxRefusal, 400, "sql_refused"),
        (NotApplicableError, 503, "not_applicable"),
        (NoModelError, 503, "not_ready"),
        (NoForecastError, 503, "not_ready"),
        (NoPlanError, 503, "not_ready"),
        (RecsysError, 422, "invalid_request"),
        (WarehouseError, 503, "warehouse_unavailable"),
    ]
    for cls, status, code in mapping:
        app.add_exception_handler(cls, _fixed(status, code))

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        return error_response(500, "internal_error", "internal error; see the server log")


def _fixed(status: int, code: str) -> Callable[[Request, Exception], Any]:
    async def handler(_: Request, exc: Exception) -> JSONResponse:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return error_response(status, code, message)

    return handler
