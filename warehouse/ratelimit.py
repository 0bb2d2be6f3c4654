"""Sign-in rate limiting shared by every server process: exponential delays, not lockouts.

Two counters slow guessing down: one per client address (stops one address from spraying many
names) and one per user name (stops many addresses from guessing one name). After
`free_failures` failures a counter imposes a delay of `base_delay_s * 2 ** (n - free - 1)` seconds
(capped at `max_delay_s`) after its last failure; an attempt inside the delay is refused before
the password is checked. The name counter does not apply to a client address that has signed in
as that name before (a *known client*), so a stranger cannot keep the real user out by failing
on purpose; the stranger's own address still slows down. Counters are forgotten
`forget_after_s` after their last failure and reset on success.

The HTTP API's per-key request limit (`KeyRateLimiter`, a token bucket per key name) is the
other limiter here, kept through the same shared state, so every worker process of the API
counts against one bucket per key.

State lives in a small JSON file (`state_path`): every update takes an exclusive `flock` on
`<file>.lock`, reads, changes and writes the file atomically (temp file + `os.replace`), so
several server processes (Streamlit, the HTTP API's workers) share one view. `state_path=None`
keeps the state in memory (one process; tests).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warehouse.db import WarehouseError

#: Most entries kept (oldest dropped first), so a flood of names cannot grow the file unbounded.
MAX_ENTRIES = 20_000
MAX_KNOWN_CLIENTS = 32


class SignInLocked(WarehouseError):
    """A sign-in attempt inside a delay; carries the seconds to wait."""

    def __init__(self, who: str, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        wait_s = max(1, round(retry_after_s))
        super().__init__(f"too many failed sign-ins for {who}; try again in {wait_s} s")


@dataclass
class SignInLimiter:
    """Exponential sign-in delays per client address and per user name (see the module doc)."""

    state_path: Path | None = None
    free_failures: int = 3
    base_delay_s: float = 4.0
    max_delay_s: float = 900.0
    forget_after_s: float = 86_400.0
    clock: Callable[[], float] = time.time
    _memory: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.free_failures < 0 or self.base_delay_s <= 0 or self.max_delay_s <= 0:
            raise ValueError("SignInLimiter: free_failures >= 0, delays > 0")

    def delay_s(self, failures: int) -> float:
        """Seconds to wait after the last of `failures` failures (0 while free)."""
        if failures <= self.free_failures:
            return 0.0
        return min(
            self.max_delay_s, self.base_delay_s * 2 ** min(failures - self.free_failures - 1, 40)
        )

    def check(self, name: str, client: str | None = None) -> None:
        """Raise SignInLocked when `client` or `name` is inside its delay."""
        name, now = _norm(name), self.clock()
        with self._state() as state:
            if client:
                self._refuse(state, f"client:{client}", "this address", now)
            if not client or client not in state.get("known", {}).get(name, []):
                self._refuse(state, f"name:{name}", repr(name), now)

    def record_failure(self, name: str, client: str | None = None) -> None:
        """Count one failed attempt for `name` and for `client`."""
        name, now = _norm(name), self.clock()
        with self._state(write=True) as state:
            counters = state.setdefault("counters", {})
            for key in (f"name:{name}", f"client:{client}" if client else None):
                if key:
                    entry = counters.get(key) or {"failures": 0, "last": now}
                    counters[key] = {"failures": int(entry["failures"]) + 1, "last": now}

    def record_success(self, name: str, client: str | None = None) -> None:
        """Reset both counters and remember `client` as a known client of `name`."""
        name = _norm(name)
        with self._state(write=True) as state:
            counters = state.setdefault("counters", {})
            counters.pop(f"name:{name}", None)
            if client:
                counters.pop(f"client:{client}", None)
                known = [c for c in state.setdefault("known", {}).get(name, []) if c != client]
                state["known"][name] = [client, *known][:MAX_KNOWN_CLIENTS]

    def reset(self, name: str) -> None:
        """Forget the failures of `name` (admin action)."""
        with self._state(write=True) as state:
            state.setdefault("counters", {}).pop(f"name:{_norm(name)}", None)

    def _refuse(self, state: dict[str, Any], key: str, who: str, now: float) -> None:
        entry = state.get("counters", {}).get(key)
        if not entry:
            return
        wait = float(entry["last"]) + self.delay_s(int(entry["failures"])) - now
        if wait > 0:
            raise SignInLocked(who, wait)

    @contextlib.contextmanager
    def _state(self, *, write: bool = False) -> Iterator[dict[str, Any]]:
        with shared_state(self.state_path, self._memory, self._lock, write=write) as state:
            yield state
            if write:
                self._prune(state)

    def _prune(self, state: dict[str, Any]) -> None:
        cutoff = self.clock() - self.forget_after_s
        counters = {k: v for k, v in state.get("counters", {}).items() if v["last"] > cutoff}
        if len(counters) > MAX_ENTRIES:
            keep = sorted(counters.items(), key=lambda kv: kv[1]["last"])[-MAX_ENTRIES:]
            counters = dict(keep)
        state["counters"] = counters
        known = state.get("known", {})
        if len(known) > MAX_ENTRIES:
            state["known"] = dict(list(known.items())[-MAX_ENTRIES:])


@dataclass
class KeyRateLimiter:
    """Requests per API key: a token bucket of `burst` requests refilled at `rate_per_s`.

    One bucket per key name in the shared state (`state_path`, see the module doc), so the
    limit holds across every server process; a key's own rate / burst replaces the defaults.
    """

    rate_per_s: float = 20.0
    burst: int = 40
    state_path: Path | None = None
    clock: Callable[[], float] = time.time
    _memory: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError("KeyRateLimiter: rate_per_s > 0 and burst >= 1")

    def take(self, name: str, rate_per_s: float | None = None, burst: int | None = None) -> float:
        """Spend one request of key `name`: 0 when allowed, else the seconds until one is free."""
        rate, size = rate_per_s or self.rate_per_s, burst or self.burst
        with shared_state(
            self.state_path, self._memory, self._lock, write=True, durable=False
        ) as state:
            now = self.clock()
            buckets = state.setdefault("buckets", {})
            entry = buckets.get(name)
            if entry is None or (entry.get("rate"), entry.get("burst")) != (rate, size):
                tokens, stamp = float(size), now
            else:
                tokens, stamp = float(entry["tokens"]), float(entry["stamp"])
            tokens = min(float(size), tokens + max(0.0, now - stamp) * rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
            if wait == 0.0:
                tokens -= 1.0
            buckets[name] = {"tokens": tokens, "stamp": now, "rate": rate, "burst": size}
            if len(buckets) > MAX_ENTRIES:  # full buckets are the same as no bucket
                for key in [k for k, v in buckets.items() if _full_at(v) <= now][:MAX_ENTRIES]:
                    buckets.pop(key, None)
        return wait


def _full_at(entry: dict[str, Any]) -> float:
    """When a bucket entry is full again (its stamp + the refill of what was spent)."""
    spent = float(entry["burst"]) - float(entry["tokens"])
    return float(entry["stamp"]) + spent / float(entry["rate"])


@contextlib.contextmanager
def shared_state(
    path: Path | None,
    memory: dict[str, Any],
    lock: threading.Lock,
    *,
    write: bool = False,
    durable: bool = True,
) -> Iterator[dict[str, Any]]:
    """The state dict of `path` under an exclusive `flock`, written back when `write`; or
    `memory` when `path` is None (`lock` guards this process's threads either way).

    `durable`: lock `<path>.lock`, write a temp file, fsync, `os.replace` (sign-in counters).
    Not durable: lock the state file itself and rewrite it in place, no fsync (request
    counters: a crash mid-write loses them, which only resets the buckets); several times
    cheaper a call.
    """
    with lock:
        if path is None:
            yield memory
            return
        if not durable:
            with _in_place(path, write) as state:
                yield state
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            state = _read(path)
            yield state
            if write:
                _write_atomic(path, state)
        finally:
            os.close(fd)  # releases the flock


@contextlib.contextmanager
def _in_place(path: Path, write: bool) -> Iterator[dict[str, Any]]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:  # no folder yet
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        old = os.pread(fd, os.fstat(fd).st_size, 0)
        try:
            state = json.loads(old) if old.strip() else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            state = {}  # a damaged file starts over
        yield state if isinstance(state, dict) else {}
        if write:
            new = json.dumps(state, separators=(",", ":")).encode("utf-8")
            os.pwrite(fd, new.ljust(len(old)), 0)  # JSON allows the trailing blanks
    finally:
        os.close(fd)  # releases the flock


def _norm(name: str) -> str:
    return name.strip().lower()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (json.JSONDecodeError, UnicodeDecodeError, OSError):
        return {}  # a damaged file starts over rather than locking everybody out
    return data if isinstance(data, dict) else {}


def _write_atomic(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
