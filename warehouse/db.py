"""Connections to the Shelfwise warehouse: one DuckDB file.

Readers open the file read-only. Writers never touch the live file: they copy it, change the
copy inside one transaction, checkpoint, and swap it into place with an atomic rename. So a
failed load leaves the warehouse byte-for-byte as it was, and readers that already hold the
old file keep a consistent snapshot until they reopen (see `generation`).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from warehouse.files import fsync_dir

SCHEMA_VERSION = 1
DEFAULT_DB = Path("data/shelfwise.duckdb")
DB_ENV_VAR = "SHELFWISE_DB"
_PARAM_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class WarehouseError(Exception):
    """A user-facing, one-line error (bad file, wrong schema, locked database...)."""


class NotApplicableError(WarehouseError):
    """The warehouse's data cannot feed this job at all, which is no fault of the data: sales
    without customer ids give no recommendations, weekly sales no reorder points in days. A
    command exits with the message; the refresh pipeline skips the job, says why, and goes on."""


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse path: explicit `db`, else $SHELFWISE_DB, else data/shelfwise.duckdb."""
    if db:
        return Path(db)
    env = os.environ.get(DB_ENV_VAR)
    return Path(env) if env else DEFAULT_DB


def sql_text(name: str) -> str:
    """Text of `warehouse/sql/<name>.sql`, e.g. `sql_text("queries/kpis")`."""
    path = resources.files("warehouse").joinpath("sql", f"{name}.sql")
    return path.read_text(encoding="utf-8")


def bind_params(sql: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Only the `$param`s that `sql` uses, so callers may pass a superset; a missing one raises."""
    wanted = set(_PARAM_RE.findall(_strip_sql_comments(sql)))
    params = params or {}
    missing = wanted - set(params)
    if missing:
        raise WarehouseError(f"SQL parameter(s) not given: {', '.join(sorted(missing))}")
    return {k: params[k] for k in wanted}


def _strip_sql_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """Run one SELECT with `$param` placeholders and return a polars frame."""
    return con.sql(sql, params=bind_params(sql, params)).pl()


def run_named(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """Run the stored query `warehouse/sql/<name>.sql` with `$param` placeholders."""
    return query(con, sql_text(name), params)


def scalar(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
) -> Any:
    """First column of the first row (None when no row); consumes the whole result."""
    rows = con.execute(sql, bind_params(sql, params)).fetchall()
    return rows[0][0] if rows else None


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
) -> None:
    """Run a statement to completion (DuckDB 2 keeps results open until fetched)."""
    con.execute(sql, bind_params(sql, params)).fetchall()


def generation(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(inode, mtime_ns) of the file: changes whenever a writer swaps in a new version."""
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns


def check_schema(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Raise a clear WarehouseError when `path` is not a warehouse of this schema version."""
    if not table_exists(con, "_meta"):
        raise WarehouseError(
            f"{path}: not a Shelfwise warehouse (no _meta table); build one with "
            "`python -m warehouse demo` or ingest into a new file"
        )
    value = scalar(con, "SELECT value FROM _meta WHERE key = 'schema_version'")
    version = int(value) if value is not None else 0
    if version < SCHEMA_VERSION:
        raise WarehouseError(
            f"{path}: warehouse schema v{version} is older than this Shelfwise "
            f"(v{SCHEMA_VERSION}); "
            "rebuild it (`python -m warehouse demo --force`, or re-ingest into a new file)"
        )
    if version > SCHEMA_VERSION:
        raise WarehouseError(
            f"{path}: warehouse schema v{version} was written by a newer Shelfwise "
            f"(this one reads v{SCHEMA_VERSION}); upgrade Shelfwise to open it"
        )


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc).splitlines()[0]
        if "lock" in msg.lower():
            raise WarehouseError(
                f"{path}: the database is locked by another process ({msg})"
            ) from exc
        raise WarehouseError(f"{path}: cannot open the database ({msg})") from exc
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: cannot open the database ({exc})") from exc


#: Catalog name of the attached warehouse inside a reader connection.
WAREHOUSE_CATALOG = "warehouse"


def connect_read(
    db: str | os.PathLike[str] | None = None, *, config: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the warehouse file as the path names it now. Caller closes it.

    A private in-memory DuckDB ATTACHes the file read-only. (`duckdb.connect(path)` would reuse
    a cached instance of the *old* file while any connection to it is open in this process, so a
    long-running app would miss a swapped-in refresh.)

    Args:
        db: warehouse path (see `resolve_db_path`).
        config: settings of the private instance (threads, memory_limit...).
    """
    path = resolve_db_path(db)
    if not path.exists():
        raise WarehouseError(
            f"{path}: no warehouse here; build the demo with `python -m warehouse demo` "
            "or ingest data with `python -m warehouse ingest ...`"
        )
    try:
        con = duckdb.connect(":memory:", config=dict(config or {}))
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot start a DuckDB reader ({_first_line(exc)})") from exc
    try:
        quoted = str(path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS {WAREHOUSE_CATALOG} (READ_ONLY)").fetchall()
        con.execute(f"USE {WAREHOUSE_CATALOG}").fetchall()
        check_schema(con, path)
    except duckdb.Error as exc:
        con.close()
        msg = _first_line(exc)
        if "lock" in msg.lower():
            raise WarehouseError(
                f"{path}: the database is locked by another process ({msg})"
            ) from exc
        raise WarehouseError(f"{path}: cannot open the database ({msg})") from exc
    except BaseException:
        con.close()
        raise
    return con


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def reading(db: str | os.PathLike[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Context manager around `connect_read`."""
    con = connect_read(db)
    try:
        yield con
    finally:
        con.close()


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw landing tables, logs and `_meta` (idempotent)."""
    con.execute(sql_text("raw/schema")).fetchall()
    execute(
        con,
        "INSERT OR REPLACE INTO _meta VALUES ('schema_version', $v)",
        {"v": str(SCHEMA_VERSION)},
    )


@contextmanager
def _writer_lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise WarehouseError(
                f"{path}: the database is locked by another load; try again when it finishes"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def writing(
    db: str | os.PathLike[str] | None = None, *, create: bool = False, fresh: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a private copy of the warehouse, swapped in on success.

    Args:
        db: warehouse path (see `resolve_db_path`).
        create: create a new warehouse when none exists.
        fresh: start from an empty warehouse even if one exists (the old one is replaced only
            when the block succeeds).

    Everything done inside the block is one transaction; on any exception the copy is deleted
    and the live file is untouched.
    """
    path = resolve_db_path(db)
    with _writer_lock(path):
        for stale in path.parent.glob(f".{path.name}.*.tmp*"):  # left by a killed writer
            _remove(stale)  # safe: we hold the writer lock
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        if path.exists() and not fresh:
            probe = _open(path, read_only=True)  # detects a foreign writer's lock
            try:
                check_schema(probe, path)
            finally:
                probe.close()
            shutil.copyfile(path, tmp)
        elif not path.exists() and not (create or fresh):
            raise WarehouseError(
                f"{path}: no warehouse here; build the demo with `python -m warehouse demo`"
            )
        con = _open(tmp, read_only=False)
        try:
            _bound_memory(con, tmp)
            init_schema(con)
            execute(con, "BEGIN TRANSACTION")
            yield con
            execute(con, "COMMIT")
            execute(con, "CHECKPOINT")
            con.close()
            os.replace(tmp, path)
            fsync_dir(path.parent)
            _remove(tmp.with_name(tmp.name + ".spill"))
        except BaseException:
            try:
                con.close()
            finally:
                for leftover in (
                    tmp,
                    tmp.with_name(tmp.name + ".wal"),
                    tmp.with_name(tmp.name + ".spill"),
                ):
                    _remove(leftover)
            raise


def _bound_memory(con: duckdb.DuckDBPyConnection, db_file: Path) -> None:
    """Cap a writer's memory (default 40% of RAM, `SHELFWISE_DUCKDB_MEMORY`) and let it spill."""
    limit = os.environ.get("SHELFWISE_DUCKDB_MEMORY")
    if not limit:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        limit = f"{max(1, int(total * 0.4 / 2**30))}GB"
    con.execute(f"SET memory_limit = '{limit}'").fetchall()
    spill = db_file.with_name(db_file.name + ".spill")
    con.execute(f"SET temp_directory = '{spill}'").fetchall()


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table or view called `name` exists in the main schema."""
    return bool(
        scalar(
            con,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = $name",
            {"name": name},
        )
    )


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def quote_identifier(name: str) -> str:
    """`name` double-quoted for SQL; anything but a plain identifier raises WarehouseError."""
    if not _IDENTIFIER.match(name):
        raise WarehouseError(f"table name {name!r}: letters, digits and '_' only")
    return f'"{name}"'


def row_count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows in table or view `table`, 0 when it does not exist.

    The name must be a plain identifier (letters, digits, '_'); it is quoted, never formatted in
    raw, so `row_count` cannot be used to inject SQL.
    """
    quoted = quote_identifier(table)
    if not table_exists(con, table):
        return 0
    return int(scalar(con, f"SELECT count(*) FROM {quoted}"))


def has_rows(db: str | os.PathLike[str], table: str) -> bool:
    """Whether warehouse file `db` exists and its table `table` exists with at least one row."""
    if not Path(db).exists():
        return False
    with reading(db) as con:
        return row_count(con, table) > 0
