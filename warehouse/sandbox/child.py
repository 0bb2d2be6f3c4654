"""The child process a sandboxed query runs in, and the locked-down connection it opens.

The child caps its own address space (`RLIMIT_AS` = what it has at start + the sandbox memory
limit + a small slack), may not create or grow files (`RLIMIT_FSIZE` = 0), ignores SIGINT (the
parent decides), opens the locked connection, checks the query, runs it with a timer that
interrupts DuckDB at the time limit, and sends back one message on a pipe:
`("ok", arrow_ipc_bytes, truncated)`, `("refused", message)` or `("error", class, text)`.
The parent kills it if it does not answer in time.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import threading
from multiprocessing.connection import Connection

import duckdb
import pyarrow as pa

from warehouse.db import WarehouseError
from warehouse.readers import open_snapshot
from warehouse.sandbox.checks import check_query
from warehouse.sandbox.policy import (
    ADDRESS_SPACE_SLACK,
    LOCK_SETTINGS,
    MAX_RESULT_BYTES,
    MEMORY_LIMIT_BYTES,
    SANDBOX_CONFIG,
    SandboxRefusal,
)
from warehouse.sandbox.values import times_as_text

_M_ARENA_MAX = -8


def open_sandbox(db: str | os.PathLike[str] | None) -> duckdb.DuckDBPyConnection:
    """The locked-down connection a sandboxed query runs on (the last line of defence).

    A private in-memory DuckDB instance with the warehouse attached READ_ONLY as its default
    database, external access off, no extension autoload, `SANDBOX_CONFIG` limits, and the
    configuration locked. Caller closes it.
    """
    try:
        con, _ = open_snapshot(db, config=SANDBOX_CONFIG)
    except WarehouseError as exc:
        raise SandboxRefusal(str(exc)) from exc
    try:
        for statement in LOCK_SETTINGS:
            con.execute(statement).fetchall()
    except BaseException:
        con.close()
        raise
    return con


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique for a frame: a repeated `x` becomes `x_2`, `x_3`, ..."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def fetch_capped(con: duckdb.DuckDBPyConnection, text: str, max_rows: int) -> tuple[pa.Table, bool]:
    """At most `max_rows` rows of `text` as an Arrow table (unique column names), and truncated.

    Columns with a date or time Python cannot hold come as text (`values.times_as_text`).
    """
    relation = con.sql(text)
    if relation is None:
        return pa.table({}), False
    reader = relation.to_arrow_reader(min(max(max_rows + 1, 1), 65_536))
    batches: list[pa.RecordBatch] = []
    rows = 0
    for batch in reader:
        batches.append(batch)
        rows += batch.num_rows
        if rows > max_rows:
            break
    table = pa.Table.from_batches(batches, schema=reader.schema)
    table = table.rename_columns(unique_names(table.column_names))
    truncated = table.num_rows > max_rows
    return times_as_text(con, table.slice(0, max_rows)), truncated


def _vm_size() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_self() -> None:
    """Cap the address space and file sizes of this process (Linux; a no-op field elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)
    cap = _vm_size() + MEMORY_LIMIT_BYTES + ADDRESS_SPACE_SLACK
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _to_ipc(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _answer(con: duckdb.DuckDBPyConnection | None, text: str, role: str, max_rows: int) -> tuple:
    assert con is not None
    to_run = check_query(con, text, role)
    table, truncated = fetch_capped(con, to_run, max_rows)
    payload = _to_ipc(table)
    if len(payload) > MAX_RESULT_BYTES:
        return (
            "refused",
            f"the result is larger than {MAX_RESULT_BYTES >> 20} MB; "
            "select fewer or shorter columns",
        )
    return ("ok", payload, truncated)


def child_batch_main(
    conn: Connection, db: str, texts: list[str], role: str, max_rows: int, timeout_s: float
) -> None:
    """Like `child_main` for many queries on one connection: one answer per query, in order.

    Each query gets its own timer. Used by `run_batch` (fuzzing, benchmarks) to avoid one process
    start per query; the parent restarts a child after one dies or overruns.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    try:
        con = open_sandbox(db)
        _limit_self()
    except BaseException as exc:  # noqa: BLE001 - reported for the first query
        message: tuple = (
            ("refused", str(exc))
            if isinstance(exc, SandboxRefusal)
            else ("error", type(exc).__name__, str(exc))
        )
        with contextlib.suppress(BaseException):
            conn.send(message)
        os._exit(0)
    for text in texts:
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.daemon = True
        timer.start()
        try:
            message = _answer(con, text, role, max_rows)
        except SandboxRefusal as exc:
            message = ("refused", str(exc))
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a message
            message = ("error", type(exc).__name__, str(exc))
        finally:
            timer.cancel()
        try:
            conn.send(message)
        except BaseException:  # noqa: BLE001
            with contextlib.suppress(BaseException):
                conn.send(("error", "MemoryError", "result too large to send"))
    with contextlib.suppress(BaseException):
        conn.close()
        con.close()
    os._exit(0)


def child_main(
    conn: Connection, db: str, text: str, role: str, max_rows: int, timeout_s: float
) -> None:
    """Run one checked query in this (child) process and send the answer on `conn`; never raises."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # a crash in here must not print on the user's terminal
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    message: tuple
    con: duckdb.DuckDBPyConnection | None = None
    timer: threading.Timer | None = None
    try:
        con = open_sandbox(db)
        _limit_self()
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.daemon = True
        timer.start()
        message = _answer(con, text, role, max_rows)
    except SandboxRefusal as exc:
        message = ("refused", str(exc))
    except MemoryError:
        message = ("error", "MemoryError", "MemoryError")
    except BaseException as exc:  # noqa: BLE001 - every failure becomes a message for the parent
        message = ("error", type(exc).__name__, str(exc))
    finally:
        if timer is not None:
            timer.cancel()
    try:
        conn.send(message)
    except BaseException:  # noqa: BLE001 - e.g. the result does not fit in memory to send
        with contextlib.suppress(BaseException):
            conn.send(("error", "MemoryError", "result too large to send"))
    finally:
        with contextlib.suppress(BaseException):
            conn.close()
        if con is not None:
            with contextlib.suppress(BaseException):
                con.close()
    os._exit(0)
