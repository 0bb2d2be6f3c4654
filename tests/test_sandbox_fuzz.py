"""Fuzz the SQL sandbox with generated statements (issue 12): 0 tracebacks, 0 writes, 0 leaks.

The light form runs 1,000 statements (seeded); `SHELFWISE_HEAVY=1` runs 10,000. Each runs as a
viewer (who may not read customer-level tables) against a demo warehouse with a secret string
planted in `dim_customer`; every 10th runs as an analyst, whose messages must not carry it either.
The only allowed outcomes are a QueryResult or a one-line SandboxRefusal. Statements go through
`run_batch` (the same checks, limits and error mapping, 50 statements per child process, so
1,000 fit in the default suite); a sample also goes through `run_sandboxed` one by one.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from tests.conftest import HEAVY
from tests.sql_fuzz import Generator, Grammar
from warehouse.sandbox import QueryResult, SandboxRefusal, run_batch, run_sandboxed

CANARY = "CANARY_77e1d0_FUZZ"
TIMEOUT_S = 1.0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _judge(sql: str, role: str, outcome: object) -> tuple[str, str]:
    """('ok' | 'refused' | 'stopped' | 'LEAK' | 'TRACEBACK', detail)."""
    if isinstance(outcome, SandboxRefusal):
        message = str(outcome)
        if CANARY in message or "\n" in message or "Traceback" in message:
            return "LEAK", f"{sql} -> {message}"
        return ("stopped" if "time limit" in message else "refused"), message
    if not isinstance(outcome, QueryResult):
        return "TRACEBACK", f"{sql} -> {outcome!r}"
    shown = str(outcome.frame.rows()) + " ".join(outcome.frame.columns)
    if role == "viewer" and CANARY in shown:
        return "LEAK", f"{sql} -> a viewer saw the canary"
    return "ok", ""


def _one(db: Path, sql: str, role: str) -> tuple[str, str]:
    try:
        outcome: object = run_sandboxed(db, sql, max_rows=50, timeout_s=TIMEOUT_S, role=role)
    except SandboxRefusal as exc:
        outcome = exc
    except BaseException as exc:  # noqa: BLE001 - anything else is a traceback for the user
        outcome = exc
    return _judge(sql, role, outcome)


def _chunk(db: Path, sqls: list[str], role: str) -> list[tuple[str, str]]:
    try:
        outcomes: list[object] = list(
            run_batch(db, sqls, max_rows=50, timeout_s=TIMEOUT_S, role=role)
        )
    except BaseException as exc:  # noqa: BLE001
        outcomes = [exc] * len(sqls)
    return [_judge(sql, role, o) for sql, o in zip(sqls, outcomes, strict=True)]


@pytest.mark.parametrize("n", [10_000 if HEAVY else 1_000])
def test_fuzz_sandbox(demo_db_master: Path, tmp_path: Path, n: int) -> None:
    db = tmp_path / "fuzz.duckdb"
    shutil.copyfile(demo_db_master, db)
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE dim_customer SET region = $c WHERE customer_id = "
        "(SELECT min(customer_id) FROM dim_customer)",
        {"c": CANARY},
    )
    con.close()
    before, listing = sha256(db), sorted(p.name for p in tmp_path.iterdir())
    gen = Generator(Grammar.load(), seed=12)
    statements = [gen.statement() for _ in range(n)]
    chunks = [
        (statements[i : i + 50], "analyst" if (i // 50) % 10 == 0 else "viewer")
        for i in range(0, n, 50)
    ]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [o for part in pool.map(lambda c: _chunk(db, *c), chunks) for o in part]
        outcomes += [_one(db, sql, "viewer") for sql in statements[:: max(1, n // 40)]]
    seconds = time.perf_counter() - started
    counts = Counter(kind for kind, _ in outcomes)
    print(f"\nfuzz: {n:,} statements in {seconds:.0f} s: {dict(counts)}")
    bad = [detail for kind, detail in outcomes if kind in ("LEAK", "TRACEBACK")]
    assert not bad, bad[:5]
    assert sha256(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
    for leftover in ("/tmp/fuzz_leak.csv", "/tmp/fuzz.duckdb", "/tmp/fuzz_dump"):
        assert not Path(leftover).exists()
    assert counts["ok"] > n // 50  # the generator reaches real queries, not only refusals
