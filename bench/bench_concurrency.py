"""Readers during a refresh: the generation-aware reader against naive designs, side by side.

For each reader design, N threads query the warehouse in a loop (four statements per read:
sales lines, their units, daily units, daily rows) while a real refresh runs (an ingest of the
committed store-item sample, in this process or as a separate `python -m warehouse` process).
Printed per design: reads, reads started during the refresh, errors, inconsistent reads (line
units != daily units within one read), stale reads (old data read after the refresh ended) and
the refresh time. A second table compares the latency of one small query: plain connection,
`WarehouseReader`, and the SQL sandbox (its checks and private instance).

    .venv/bin/python bench/bench_concurrency.py --db /tmp/me/demo.duckdb --readers 4

The given warehouse is copied to a temp folder for every run and never written.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from warehouse import ingest  # noqa: E402
from warehouse.db import connect_read, reading, resolve_db_path, scalar  # noqa: E402
from warehouse.ingest.sales_panel import PanelColumns, ingest_args  # noqa: E402
from warehouse.readers import WarehouseReader  # noqa: E402
from warehouse.sandbox import run_sandboxed  # noqa: E402

PANEL = REPO / "tests" / "data" / "store_item_sample.csv"
COLUMNS = PanelColumns("date", "store", "item", "sales")
READ_SQL = (
    "SELECT count(*) FROM fct_sales",
    "SELECT sum(quantity) FROM fct_sales",
    "SELECT sum(units) FROM fct_sales_daily",
    "SELECT count(*) FROM fct_sales_daily",
)


def read_four(con: duckdb.DuckDBPyConnection) -> tuple[int, float, float, int]:
    """The four statements of one read, on one connection."""
    values = [scalar(con, sql) for sql in READ_SQL]
    return int(values[0]), float(values[1]), float(values[2]), int(values[3])


class Design:
    """A way for reader threads to get a connection."""

    name = ""

    def read(self) -> tuple[int, float, float, int]:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


class GenerationAware(Design):
    """`WarehouseReader`: per-thread connection, reopened on a generation change."""

    name = "WarehouseReader (generation-aware)"

    def __init__(self, db: Path) -> None:
        self.reader = WarehouseReader(db)

    def read(self) -> tuple[int, float, float, int]:
        with self.reader.snapshot() as con:
            return read_four(con)

    def close(self) -> None:
        self.reader.close()


class ConnectPerRead(Design):
    """`connect_read` for every read (DuckDB's per-process instance cache underneath)."""

    name = "connect_read per read (naive)"

    def __init__(self, db: Path) -> None:
        self.db = db

    def read(self) -> tuple[int, float, float, int]:
        con = connect_read(self.db)
        try:
            return read_four(con)
        finally:
            con.close()


class LongLived(Design):
    """One connection per thread opened once (the 'cache the connection' design)."""

    name = "one connection per thread, kept (naive)"

    def __init__(self, db: Path) -> None:
        self.db = db
        self.local = threading.local()
        self.cons: list[duckdb.DuckDBPyConnection] = []
        self.lock = threading.Lock()

    def read(self) -> tuple[int, float, float, int]:
        con = getattr(self.local, "con", None)
        if con is None:
            con = self.local.con = connect_read(self.db)
            with self.lock:
                self.cons.append(con)
        return read_four(con)

    def close(self) -> None:
        for con in self.cons:
            con.close()


@dataclass
class Outcome:
    design: str
    refresh: str
    reads: int = 0
    during: int = 0
    errors: int = 0
    inconsistent: int = 0
    stale_after: int = 0
    refresh_s: float = 0.0
    first_error: str = ""
    samples: list[tuple[float, tuple[int, float, float, int]]] = field(default_factory=list)


def refresh_in_process(db: Path) -> None:
    ingest.ingest_sales_panel(db, PANEL, COLUMNS)


def refresh_subprocess(db: Path) -> None:
    cmd = [sys.executable, "-m", "warehouse", *ingest_args(db, PANEL, COLUMNS)]
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)


def run_one(
    source: Path,
    design_cls: type[Design],
    refresh_name: str,
    refresh: Callable[[Path], None],
    readers: int,
    after_s: float,
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="bench_conc_") as tmp:
        db = Path(tmp) / "wh.duckdb"
        shutil.copyfile(source, db)
        with reading(db) as probe:
            old = read_four(probe)
        design = design_cls(db)
        outcome = Outcome(design.name, refresh_name)
        stop = threading.Event()
        lock = threading.Lock()

        def loop() -> None:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    value = design.read()
                except Exception as exc:  # noqa: BLE001 - counted, not raised
                    with lock:
                        outcome.errors += 1
                        outcome.first_error = outcome.first_error or str(exc).splitlines()[0]
                    continue
                with lock:
                    outcome.samples.append((started, value))

        threads = [threading.Thread(target=loop) for _ in range(readers)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        t0 = time.perf_counter()
        refresh(db)
        t1 = time.perf_counter()
        time.sleep(after_s)
        stop.set()
        for thread in threads:
            thread.join()
        design.close()
        outcome.refresh_s = t1 - t0
        outcome.reads = len(outcome.samples)
        outcome.during = sum(t0 <= t <= t1 for t, _ in outcome.samples)
        outcome.inconsistent = sum(
            abs(v[1] - v[2]) > 1e-6 * max(1.0, abs(v[1])) for _, v in outcome.samples
        )
        outcome.stale_after = sum(t > t1 and v == old for t, v in outcome.samples)
        return outcome


def refresh_alone(source: Path, refresh: Callable[[Path], None]) -> float:
    with tempfile.TemporaryDirectory(prefix="bench_conc_") as tmp:
        db = Path(tmp) / "wh.duckdb"
        shutil.copyfile(source, db)
        t0 = time.perf_counter()
        refresh(db)
        return time.perf_counter() - t0


def latency_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="warehouse to copy (default $SHELFWISE_DB or data/...)")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--after", type=float, default=2.0, help="seconds of reads after")
    parser.add_argument("--repeats", type=int, default=30, help="latency repeats")
    args = parser.parse_args()
    source = resolve_db_path(args.db)

    refreshes: list[tuple[str, Callable[[Path], None]]] = [
        ("ingest, same process", refresh_in_process),
        ("ingest, other process (CLI)", refresh_subprocess),
    ]
    designs = [GenerationAware, ConnectPerRead, LongLived]
    print(
        f"warehouse {source} ({source.stat().st_size / 1e6:.0f} MB), {args.readers} reader "
        f"threads, {args.after:g} s of reads after each refresh"
    )
    print(
        "| design | refresh | refresh s (alone s) | reads | during refresh | errors | "
        "inconsistent | stale after refresh |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for refresh_name, refresh in refreshes:
        alone = refresh_alone(source, refresh)
        for design_cls in designs:
            o = run_one(source, design_cls, refresh_name, refresh, args.readers, args.after)
            print(
                f"| {o.design} | {o.refresh} | {o.refresh_s:.2f} ({alone:.2f}) | {o.reads} | "
                f"{o.during} | {o.errors} | {o.inconsistent} | {o.stale_after} |"
            )
            if o.first_error:
                print(f"|  first error: {o.first_error[:90]} |")

    sql = "SELECT count(*) FROM dim_store"
    reader = WarehouseReader(source)

    def plain() -> None:
        con = duckdb.connect(str(source), read_only=True)
        con.execute(sql).fetchall()
        con.close()

    rows = [
        ("duckdb.connect + query + close", latency_ms(plain, args.repeats)),
        ("WarehouseReader.query (warm)", latency_ms(lambda: reader.query(sql), args.repeats)),
        (
            "run_sandboxed (open, lock, check, run)",
            latency_ms(lambda: run_sandboxed(source, sql), args.repeats),
        ),
    ]
    reader.close()
    base = rows[0][1]
    print()
    print(f"| one small query ({sql}) | median ms | x plain |")
    print("| --- | --- | --- |")
    for name, ms in rows:
        print(f"| {name} | {ms:.1f} | {ms / base:.1f} |")


if __name__ == "__main__":
    main()
