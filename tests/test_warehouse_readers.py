"""Readers keep serving, consistently, while a real refresh swaps in a new warehouse."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import HEAVY, SAMPLES, ingest_panel
from warehouse import ingest
from warehouse.db import WarehouseError, generation, reading, scalar
from warehouse.demo import DemoConfig, build_demo
from warehouse.ingest import FAULT_ENV, InjectedFault
from warehouse.ingest.sales_panel import PanelColumns
from warehouse.readers import WarehouseReader, open_snapshot
from warehouse.sandbox import run_sandboxed

PANEL = SAMPLES / "store_item_sample.csv"
PANEL_COLUMNS = PanelColumns("date", "store", "item", "sales")
N_READERS = 8 if HEAVY else 4

Snapshot = tuple[int, float, float, int]


def read_snapshot(reader: WarehouseReader) -> Snapshot:
    """Four separate statements on one snapshot: sales lines, their units, daily units, days."""
    with reader.snapshot() as con:
        lines = int(scalar(con, "SELECT count(*) FROM fct_sales"))
        line_units = float(scalar(con, "SELECT sum(quantity) FROM fct_sales"))
        daily_units = float(scalar(con, "SELECT sum(units) FROM fct_sales_daily"))
        days = int(scalar(con, "SELECT count(*) FROM fct_sales_daily"))
    return lines, line_units, daily_units, days


@dataclass
class ReaderLog:
    seen: list[Snapshot] = field(default_factory=list)
    started_at: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def reader_loop(reader: WarehouseReader, log: ReaderLog, stop: threading.Event) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            log.seen.append(read_snapshot(reader))
            log.started_at.append(started)
        except Exception as exc:  # noqa: BLE001 - every error is a failure of the design
            log.errors.append(f"{type(exc).__name__}: {exc}")


def ingest_in_process(db: Path) -> int:
    """The pipeline's ingest called in the app's process; returns lines added."""
    return ingest.ingest_sales_panel(db, PANEL, PANEL_COLUMNS).rows_added


def ingest_other_process(db: Path) -> int:
    """`python -m warehouse ingest sales-panel` as a separate process (how cron would run it)."""
    done = ingest_panel(db, PANEL)
    match = re.search(r"added\s+([\d,]+)", done.stdout)
    assert match, done.stdout
    return int(match.group(1).replace(",", ""))


def rebuild_demo(db: Path) -> int:
    """A full demo rebuild with another seed (every mart replaced); returns the change in lines."""
    with reading(db) as con:
        before = int(scalar(con, "SELECT count(*) FROM fct_sales"))
    counts = build_demo(db, DemoConfig(scale=0.1, seed=8))
    return int(counts["fct_sales"]) - before


REFRESHES = [
    pytest.param(ingest_in_process, id="ingest-same-process"),
    pytest.param(ingest_other_process, id="ingest-other-process"),
    pytest.param(
        rebuild_demo,
        id="demo-rebuild",
        marks=[
            pytest.mark.heavy,
            pytest.mark.skipif(not HEAVY, reason="SHELFWISE_HEAVY=1 runs it"),
        ],
    ),
]


@pytest.mark.parametrize("refresh", REFRESHES)
def test_readers_see_old_then_new_and_never_an_error_during_a_refresh(
    demo_db: Path, refresh: Callable[[Path], int]
) -> None:
    reader = WarehouseReader(demo_db)
    old = read_snapshot(reader)
    logs = [ReaderLog() for _ in range(N_READERS)]
    stop = threading.Event()
    threads = [threading.Thread(target=reader_loop, args=(reader, log, stop)) for log in logs]
    for thread in threads:
        thread.start()
    try:
        while min(len(log.seen) for log in logs) < 2 and not any(log.errors for log in logs):
            time.sleep(0.01)
        refresh_start = time.perf_counter()
        added = refresh(demo_db)
        refresh_end = time.perf_counter()
        deadline = time.monotonic() + 60
        while (
            min(sum(s != old for s in log.seen) for log in logs) < 2
            and time.monotonic() < deadline
            and not any(log.errors for log in logs)
        ):
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    new = read_snapshot(reader)
    reader.close()

    errors = [e for log in logs for e in log.errors]
    reads = sum(len(log.seen) for log in logs)
    during = sum(refresh_start <= t <= refresh_end for log in logs for t in log.started_at)
    print(
        f"\nconcurrency: {N_READERS} reader threads, {reads} reads "
        f"({during} started during the refresh), refresh ({refresh.__name__}, "
        f"{added:+,} sales lines) {refresh_end - refresh_start:.2f} s, errors = {len(errors)}"
    )

    assert errors == []
    assert new != old and new[0] == old[0] + added
    assert during > 0, "no read overlapped the refresh"
    for log in logs:
        assert set(log.seen) <= {old, new}
        first_new = log.seen.index(new)  # every thread picked up the new data without a restart
        assert all(s == old for s in log.seen[:first_new])
        assert all(s == new for s in log.seen[first_new:])  # never back to the old file
        for _lines, line_units, daily_units, _days in log.seen:
            assert line_units == pytest.approx(daily_units)  # marts agree within one snapshot


def test_a_failed_refresh_changes_nothing_readers_see(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = WarehouseReader(demo_db)
    before, gen = read_snapshot(reader), generation(demo_db)
    monkeypatch.setenv(FAULT_ENV, "build marts")
    with pytest.raises(InjectedFault):
        ingest.ingest_sales_panel(demo_db, PANEL, PANEL_COLUMNS)
    assert generation(demo_db) == gen
    assert read_snapshot(reader) == before
    assert reader.reopens == 1
    reader.close()


def test_reader_reopens_once_per_thread_per_swap(demo_db: Path) -> None:
    reader = WarehouseReader(demo_db)
    first = reader.query("SELECT count(*) AS n FROM fct_sales")["n"][0]
    reader.query("SELECT 1")
    assert reader.reopens == 1
    old_gen = reader.generation
    report = ingest.ingest_sales_panel(demo_db, PANEL, PANEL_COLUMNS)
    assert reader.query("SELECT count(*) AS n FROM fct_sales")["n"][0] == first + report.rows_added
    assert reader.reopens == 2 and reader.generation != old_gen
    worker = threading.Thread(target=reader.query, args=("SELECT 1",))
    worker.start()
    worker.join()
    assert reader.reopens == 3  # a new thread gets its own connection
    reader.close()


def test_a_snapshot_block_keeps_its_file_across_a_swap(demo_db: Path) -> None:
    reader = WarehouseReader(demo_db)
    with reader.snapshot() as con:
        before = scalar(con, "SELECT count(*) FROM fct_sales")
        ingest.ingest_sales_panel(demo_db, PANEL, PANEL_COLUMNS)
        assert scalar(con, "SELECT count(*) FROM fct_sales") == before
        assert reader.query("SELECT count(*) AS n FROM fct_sales")["n"][0] == before
        assert scalar(con, "SELECT count(*) FROM fct_sales") == before  # still open
    assert reader.query("SELECT count(*) AS n FROM fct_sales")["n"][0] > before
    reader.close()


def test_sandbox_sees_each_refresh(demo_db: Path) -> None:
    count = "SELECT count(*) AS n FROM fct_sales"
    before = run_sandboxed(demo_db, count).frame["n"][0]
    report = ingest.ingest_sales_panel(demo_db, PANEL, PANEL_COLUMNS)
    assert run_sandboxed(demo_db, count).frame["n"][0] == before + report.rows_added


def test_snapshot_connections_are_read_only(demo_db: Path) -> None:
    con, _ = open_snapshot(demo_db)
    try:
        with pytest.raises(Exception, match="read-only"):
            con.execute("DELETE FROM dim_store").fetchall()
    finally:
        con.close()


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no warehouse here"):
        WarehouseReader(tmp_path / "none.duckdb").query("SELECT 1")
