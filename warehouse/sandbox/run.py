"""`run_sandboxed`: validate, then run the query in a child process that is killed at its limit.

The parent never touches the query with DuckDB. It validates the arguments, starts a child
(`warehouse.sandbox.child`) from a fork server that has DuckDB already imported (a fresh, clean
process per query in tens of milliseconds), waits at most `timeout_s` + `KILL_GRACE_S` for its one
answer, kills it otherwise, and maps every failure to a one-line `SandboxRefusal`.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.context import BaseContext, set_spawning_popen
from multiprocessing.process import BaseProcess
from typing import Any

import polars as pl
import pyarrow as pa

from warehouse.db import resolve_db_path
from warehouse.sandbox.errors import LOG, memory_limit_message, safe_message, time_limit_message
from warehouse.sandbox.policy import QueryResult, SandboxRefusal, role_rank, validate_timeout
from warehouse.sandbox.text import clean_text

#: Seconds after `timeout_s` the parent waits for the child's own clean stop before killing it.
KILL_GRACE_S = 0.75
_CTX_LOCK = threading.Lock()
_CTX: list[BaseContext] = []


class _Popen(popen_forkserver.Popen):
    """Fork-server start that does not re-run the parent's `__main__` in the child.

    multiprocessing re-imports the parent's main script in every child; an unguarded script (or
    a web server's entry point) would then run again there. The child only needs
    `warehouse.sandbox.child.child_main`, which is pickled by its module name.
    """

    def _launch(self, process_obj: BaseProcess) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)  # type: ignore[attr-defined]
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        parent_w = os.dup(w)
        close_fds = util.close_fds  # type: ignore[attr-defined]
        self.finalizer = util.Finalize(self, close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as handle:
            handle.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


def _process(ctx: BaseContext, **kwargs: Any) -> BaseProcess:
    """A child process of `ctx`, started with `_Popen` when `ctx` is the fork server."""
    process = ctx.Process(**kwargs)  # type: ignore[attr-defined]
    if ctx.get_start_method() == "forkserver":
        process._Popen = _Popen
    return process


def _context() -> BaseContext:
    """A fork-server context with the child module preloaded (spawn where there is no fork)."""
    with _CTX_LOCK:
        if not _CTX:
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                ctx.set_forkserver_preload(["warehouse.sandbox.child"])
            _CTX.append(ctx)
        return _CTX[0]


def _stop(process: BaseProcess) -> None:
    """Kill and reap the child; a no-op for one that never started (Ctrl-C during `start`)."""
    if process.pid is None:
        return
    try:
        if process.is_alive():
            process.kill()
        process.join(5)
    except (AssertionError, ValueError, OSError):  # already closed, or never started
        pass


def _from_child(message: tuple, text: str, timeout_s: float) -> tuple[pl.DataFrame, bool]:
    status = message[0]
    if status == "ok":
        table = pa.ipc.open_stream(pa.py_buffer(message[1])).read_all()
        return _to_polars(table), bool(message[2])
    if status == "refused":
        raise SandboxRefusal(str(message[1]).splitlines()[0] if message[1] else "refused")
    raise SandboxRefusal(safe_message(str(message[1]), str(message[2]), text, timeout_s))


def _to_polars(table: pa.Table) -> pl.DataFrame:
    """`table` as a polars frame; a column polars cannot take (e.g. intervals) becomes text."""
    if not table.num_columns:
        return pl.DataFrame()
    columns: dict[str, pl.Series] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        try:
            series = pl.from_arrow(column)
            assert isinstance(series, pl.Series)
        except Exception:  # noqa: BLE001 - any type polars rejects is shown as text
            series = pl.Series(
                [None if v is None else str(v) for v in column.to_pylist()], dtype=pl.String
            )
        columns[name] = series.alias(name)
    return pl.DataFrame(columns)


def _died(exitcode: int | None, timeout_s: float, waited_s: float) -> SandboxRefusal:
    LOG.warning("sandbox child ended without an answer (exit code %s)", exitcode)
    if waited_s >= timeout_s:
        return SandboxRefusal(time_limit_message(timeout_s))
    if (
        exitcode is not None
        and exitcode < 0
        and -exitcode in (signal.SIGABRT, signal.SIGSEGV, signal.SIGKILL, signal.SIGBUS)
    ):
        return SandboxRefusal(memory_limit_message())
    return SandboxRefusal("query stopped: the query process ended unexpectedly")


def warm_up() -> None:
    """Start the fork server now (a server calls this at start so no query pays for it)."""
    ctx = _context()
    if ctx.get_start_method() == "forkserver":
        forkserver.ensure_running()


def run_sandboxed(
    db: str | os.PathLike[str] | None,
    sql: str | bytes,
    *,
    max_rows: int = 1000,
    timeout_s: float = 30.0,
    role: str = "analyst",
) -> QueryResult:
    """Run one read-only query of an analyst on a locked-down snapshot of the warehouse.

    Args:
        db: warehouse path (see `warehouse.db.resolve_db_path`).
        sql: the query text (bytes must be UTF-8).
        max_rows: most rows returned (>= 0); `truncated` says whether more existed.
        timeout_s: wall-clock seconds in (0, 300]; checks and query stop by then (the child
            process is killed at most `KILL_GRACE_S` later).
        role: one of `ROLE_ORDER`; roles below analyst may not read customer-level tables.

    Returns:
        QueryResult(frame, truncated, elapsed_s).

    Raises:
        SandboxRefusal: the query was refused or stopped; the message says why in one line.
    """
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise SandboxRefusal(f"max_rows must be an integer >= 0, got {max_rows!r}")
    timeout_s = validate_timeout(timeout_s)
    role_rank(role)
    text = clean_text(sql)
    start = time.perf_counter()
    path = str(resolve_db_path(db))
    reader, writer = _context().Pipe(duplex=False)
    from warehouse.sandbox.child import child_main

    process = _process(
        _context(),
        target=child_main,
        args=(writer, path, text, role, max_rows, timeout_s),
        daemon=True,
    )
    try:
        process.start()  # the first call also starts the fork server (seconds, not counted)
        writer.close()
        deadline = time.perf_counter() + timeout_s + KILL_GRACE_S
        while True:
            if reader.poll(max(0.0, min(0.25, deadline - time.perf_counter()))):
                try:
                    message = reader.recv()
                except (EOFError, OSError):
                    process.join(1)
                    waited = timeout_s - (deadline - KILL_GRACE_S - time.perf_counter())
                    raise _died(process.exitcode, timeout_s, waited) from None
                break
            if time.perf_counter() >= deadline:
                raise SandboxRefusal(time_limit_message(timeout_s))
    finally:
        _stop(process)
        reader.close()
    frame, truncated = _from_child(message, text, timeout_s)
    return QueryResult(frame, truncated, time.perf_counter() - start)


def run_batch(
    db: str | os.PathLike[str] | None,
    queries: list[str],
    *,
    max_rows: int = 1000,
    timeout_s: float = 30.0,
    role: str = "analyst",
) -> list[QueryResult | SandboxRefusal]:
    """Run many queries through the same checks and limits, several per child process.

    Each query gets the same outcome `run_sandboxed` would give (a QueryResult or the
    SandboxRefusal it would raise), with its own time limit; a child that overruns or dies is
    killed and a new one continues with the next query. For fuzzing and benchmarks.
    """
    timeout_s = validate_timeout(timeout_s)
    role_rank(role)
    path = str(resolve_db_path(db))
    outcomes: list[QueryResult | SandboxRefusal] = []
    texts: list[str | None] = []
    for sql in queries:
        try:
            texts.append(clean_text(sql))
        except SandboxRefusal:
            texts.append(None)
    pending = [i for i, t in enumerate(texts) if t is not None]
    answers: dict[int, QueryResult | SandboxRefusal] = {}
    from warehouse.sandbox.child import child_batch_main

    while pending:
        reader, writer = _context().Pipe(duplex=False)
        batch = [texts[i] for i in pending]
        process = _process(
            _context(),
            target=child_batch_main,
            args=(writer, path, batch, role, max_rows, timeout_s),
            daemon=True,
        )
        try:
            process.start()
            writer.close()
            while pending:
                index, text = pending[0], texts[pending[0]]
                assert text is not None
                start = time.perf_counter()
                if not reader.poll(timeout_s + KILL_GRACE_S):
                    answers[index] = SandboxRefusal(time_limit_message(timeout_s))
                    pending.pop(0)
                    break
                try:
                    message = reader.recv()
                except (EOFError, OSError):
                    process.join(1)
                    answers[index] = _died(process.exitcode, timeout_s, time.perf_counter() - start)
                    pending.pop(0)
                    break
                try:
                    frame, truncated = _from_child(message, text, timeout_s)
                    answers[index] = QueryResult(frame, truncated, time.perf_counter() - start)
                except SandboxRefusal as exc:
                    answers[index] = exc
                pending.pop(0)
        finally:
            _stop(process)
            reader.close()
    for i, sql in enumerate(queries):
        if texts[i] is None:
            try:
                clean_text(sql)
            except SandboxRefusal as exc:
                outcomes.append(exc)
        else:
            outcomes.append(answers[i])
    return outcomes
