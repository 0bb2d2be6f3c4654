"""Generation-aware readers: the app keeps serving while the pipeline swaps in a new warehouse.

Writers (`warehouse.db.writing`) never change the live file: they build a copy and `os.replace`
it into place. A reader connection therefore always sees one complete file (the inode it opened),
never a half-written table. What a long-running reader must do is notice the swap and reopen:
`WarehouseReader` keeps one connection per thread together with the file's `generation`
((inode, mtime_ns), see `warehouse.db.generation`) and reopens when the generation changed.

Why not `duckdb.connect(path, read_only=True)`: DuckDB caches database instances by path inside a
process, so while any connection to the old file is open, a new `connect` to the same path returns
the *old* instance, and the reader would keep the old data. Each snapshot here is its own in-memory
instance that ATTACHes the file read-only, which always opens what the path names now.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from warehouse.db import WAREHOUSE_CATALOG as WAREHOUSE_CATALOG  # re-exported for callers
from warehouse.db import (
    WarehouseError,
    connect_read,
    generation,
    query,
    resolve_db_path,
)

Generation = tuple[int, int]


def _missing(path: Path) -> WarehouseError:
    return WarehouseError(
        f"{path}: no warehouse here; build the demo with `python -m warehouse demo` "
        "or ingest data with `python -m warehouse ingest ...`"
    )


def open_snapshot(
    db: str | os.PathLike[str] | None = None, *, config: Mapping[str, Any] | None = None
) -> tuple[duckdb.DuckDBPyConnection, Generation]:
    """A read-only connection to the warehouse file as it is now, and that file's generation.

    Args:
        db: warehouse path (see `resolve_db_path`).
        config: DuckDB settings of the private in-memory instance (threads, memory_limit...).

    Returns:
        (connection, generation). The generation is read before opening, so when a swap happens
        in between the caller sees a newer generation next time and reopens; never an older one.
    """
    path = resolve_db_path(db)
    try:
        gen = generation(path)
    except FileNotFoundError as exc:
        raise _missing(path) from exc
    return connect_read(path, config=config), gen


@dataclass
class _ThreadSlot:
    con: duckdb.DuckDBPyConnection | None = None
    gen: Generation | None = None
    depth: int = 0  # open snapshot() blocks: no reopening inside one


@dataclass
class WarehouseReader:
    """Per-thread read-only connections that follow the warehouse across atomic swaps.

    Use one reader per warehouse for the life of the app (e.g. `st.cache_resource`). Each call of
    `snapshot()` checks the file's generation (one `stat`) and reopens the calling thread's
    connection when a writer swapped in a new file; everything inside one `snapshot()` block reads
    that one file, so several queries in a block agree with each other.

    Attributes:
        db: warehouse path.
        reopens: how many connections were opened (first opens and reopens), for monitoring.
    """

    db: str | os.PathLike[str] | None = None
    reopens: int = 0
    _path: Path = field(init=False, repr=False)
    _local: threading.local = field(init=False, repr=False, default_factory=threading.local)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _slots: list[_ThreadSlot] = field(init=False, repr=False, default_factory=list)

    def __post_init__(self) -> None:
        self._path = resolve_db_path(self.db)

    @property
    def path(self) -> Path:
        """The warehouse file this reader follows."""
        return self._path

    def _slot(self) -> _ThreadSlot:
        slot = getattr(self._local, "slot", None)
        if slot is None:
            slot = _ThreadSlot()
            self._local.slot = slot
            with self._lock:
                self._slots.append(slot)
        return slot

    def connection(self) -> duckdb.DuckDBPyConnection:
        """The calling thread's connection, reopened first if the warehouse was swapped.

        Inside a `snapshot()` block of this thread it is that block's connection, unchanged.
        """
        slot = self._slot()
        if slot.depth and slot.con is not None:
            return slot.con
        try:
            current = generation(self._path)
        except FileNotFoundError as exc:
            raise _missing(self._path) from exc
        if slot.con is None or slot.gen != current:
            con, gen = open_snapshot(self._path)
            old, slot.con, slot.gen = slot.con, con, gen
            with self._lock:
                self.reopens += 1
            if old is not None:
                old.close()
        assert slot.con is not None
        return slot.con

    @property
    def generation(self) -> Generation | None:
        """Generation of the calling thread's open snapshot (None before its first query)."""
        return self._slot().gen

    @contextmanager
    def snapshot(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One consistent view for several queries (one file, even if a swap happens meanwhile).

        `query()` and `connection()` called by this thread inside the block use the same view.
        """
        con = self.connection()
        slot = self._slot()
        slot.depth += 1
        try:
            yield con
        finally:
            slot.depth -= 1

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """Run one read query with `$param` placeholders on the newest snapshot."""
        return query(self.connection(), sql, params)

    def close(self) -> None:
        """Close every thread's connection (call when the app shuts down)."""
        with self._lock:
            slots, self._slots = self._slots, []
        for slot in slots:
            if slot.con is not None:
                slot.con.close()
                slot.con, slot.gen = None, None
        self._local = threading.local()


@dataclass
class LiveWarehouse:
    """A read-only connection that follows atomic swaps of the warehouse file.

    `cursor()` checks `generation(path)` and reopens when a refresh replaced the file, so readers
    never keep a stale snapshot beyond their current query. Thread-safe; each caller gets its own
    cursor (close it, or use `with live.cursor() as cur`).
    """

    path: Path
    _con: duckdb.DuckDBPyConnection | None = None
    _generation: tuple[int, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    reopened: int = 0

    def generation(self) -> tuple[int, int]:
        """Current (inode, mtime_ns) of the file on disk."""
        try:
            return generation(self.path)
        except FileNotFoundError as exc:
            raise WarehouseError(
                f"{self.path}: no warehouse here; build the demo with `python -m warehouse demo`"
            ) from exc

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A fresh cursor on the current file's snapshot (reopened after a swap).

        Snapshots come from `warehouse.readers.open_snapshot` (a private instance ATTACHing the
        file), because DuckDB would hand back the old instance for a plain re-`connect` of the
        same path while any connection to it is open. The old snapshot is closed by the garbage
        collector once its last cursor is gone, so queries running during a swap finish on it.
        """
        current = self.generation()
        with self._lock:
            if self._con is None or current != self._generation:
                self._con, self._generation = open_snapshot(self.path)
                self.reopened += 1
            cursor = self._con.cursor()
        cursor.execute(f"USE {WAREHOUSE_CATALOG}").fetchall()
        return cursor
