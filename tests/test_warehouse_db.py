"""Connections, schema versioning, locks and the atomic copy-on-write writer."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from warehouse.db import (
    SCHEMA_VERSION,
    WarehouseError,
    bind_params,
    connect_read,
    execute,
    generation,
    reading,
    resolve_db_path,
    scalar,
    writing,
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resolve_db_path_prefers_flag_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELFWISE_DB", "/tmp/env.duckdb")
    assert resolve_db_path("x.duckdb") == Path("x.duckdb")
    assert resolve_db_path(None) == Path("/tmp/env.duckdb")
    monkeypatch.delenv("SHELFWISE_DB")
    assert resolve_db_path(None) == Path("data/shelfwise.duckdb")


def test_bind_params_keeps_only_used_and_names_missing() -> None:
    assert bind_params("select $a, $b -- $c", {"a": 1, "b": 2, "c": 3, "d": 4}) == {"a": 1, "b": 2}
    with pytest.raises(WarehouseError, match="not given: b"):
        bind_params("select $a, $b", {"a": 1})


def test_missing_warehouse_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="python -m warehouse demo"):
        connect_read(tmp_path / "nope.duckdb")


def test_not_a_warehouse_file(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(WarehouseError, match="not a Shelfwise warehouse"):
        connect_read(path)


@pytest.mark.parametrize(("version", "message"), [(0, "older"), (SCHEMA_VERSION + 1, "newer")])
def test_other_schema_versions_get_a_clear_message(
    tmp_path: Path, version: int, message: str
) -> None:
    path = tmp_path / "w.duckdb"
    with writing(path, create=True):
        pass
    con = duckdb.connect(str(path))
    con.execute("UPDATE _meta SET value = $v WHERE key = 'schema_version'", {"v": str(version)})
    con.close()
    with pytest.raises(WarehouseError, match=message):
        connect_read(path)
    with pytest.raises(WarehouseError, match=message), writing(path):
        pass


def test_failed_write_leaves_file_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with writing(path, create=True) as con:
        execute(con, "CREATE TABLE t AS SELECT 1 AS x")
    before, gen_before = _sha(path), generation(path)
    with pytest.raises(RuntimeError), writing(path) as con:
        execute(con, "INSERT INTO t VALUES (2)")
        raise RuntimeError("boom")
    assert _sha(path) == before
    assert generation(path) == gen_before
    assert not list(tmp_path.glob(".w.duckdb.*.tmp"))
    with reading(path) as con:
        assert scalar(con, "SELECT count(*) FROM t") == 1


def test_successful_write_swaps_in_a_new_generation(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with writing(path, create=True) as con:
        execute(con, "CREATE TABLE t AS SELECT 1 AS x")
    old = generation(path)
    reader = connect_read(path)  # an open reader keeps its snapshot
    with writing(path) as con:
        execute(con, "INSERT INTO t VALUES (2)")
    assert generation(path) != old
    assert scalar(reader, "SELECT count(*) FROM t") == 1
    reader.close()
    with reading(path) as con:
        assert scalar(con, "SELECT count(*) FROM t") == 2


def test_second_writer_is_refused_while_one_writes(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with (
        writing(path, create=True),
        pytest.raises(WarehouseError, match="locked by another load"),
        writing(path),
    ):
        pass


def test_database_locked_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    with writing(path, create=True):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import duckdb, sys, time
            con = duckdb.connect({str(path)!r})
            print("locked", flush=True)
            time.sleep(30)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = _sha(path)
        with pytest.raises(WarehouseError, match="locked"), writing(path):
            pass
        assert _sha(path) == before
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
