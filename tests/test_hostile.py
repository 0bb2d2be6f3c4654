"""The hostile-input corpus of `tests/hostile/` (issue 12): SQL, timeouts, interrupts, CSV
injection, ingest files and sign-in. Every release runs it.

For each hostile SQL input: refused or stopped within its timeout + 2 s, peak memory of this
process and its children at most the sandbox memory limit + 256 MB above what it was before,
a one-line message with no traceback, the planted canary never shown, the warehouse byte-identical.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import psutil
import pytest

from services import auth
from services.exports import export_bytes
from warehouse.db import WarehouseError, reading
from warehouse.files import csv_bytes, write_frame_atomic
from warehouse.ingest import ingest_inventory, ingest_online_retail
from warehouse.ratelimit import SignInLimiter, SignInLocked
from warehouse.sandbox import MEMORY_LIMIT_BYTES, SandboxRefusal, run_sandboxed

REPO = Path(__file__).resolve().parents[1]
HOSTILE = REPO / "tests" / "hostile"
CANARY = "CANARY_9f2c1e_SECRET"
TIMEOUT_S = 2.0
SQL_CASES = json.loads((HOSTILE / "sql.json").read_text())["cases"]
TIMEOUTS = json.loads((HOSTILE / "timeouts.json").read_text())
CSV_CELLS = json.loads((HOSTILE / "csv_injection.json").read_text())["cells"]
INGEST = json.loads((HOSTILE / "ingest" / "expected.json").read_text())
AUTH = json.loads((HOSTILE / "auth.json").read_text())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def canary_db(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse with a secret string planted in a customer-level table."""
    path = tmp_path_factory.mktemp("hostile") / "demo.duckdb"
    shutil.copyfile(demo_db_master, path)
    con = duckdb.connect(str(path))
    con.execute(
        "UPDATE dim_customer SET region = $c WHERE customer_id = "
        "(SELECT min(customer_id) FROM dim_customer)",
        {"c": CANARY},
    )
    con.close()
    run_sandboxed(path, "SELECT 1")  # start the fork server outside the measured cases
    return path


class TreePeak:
    """Peak resident memory of this process and all its descendants, sampled every 5 ms."""

    def __init__(self) -> None:
        self.me = psutil.Process()
        self.base = self.sample()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> int:
        total = 0
        for proc in [self.me, *self.me.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            time.sleep(0.005)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_the_corpus_has_at_least_thirty_sql_inputs() -> None:
    assert len(SQL_CASES) >= 30
    assert len({c["name"] for c in SQL_CASES}) == len(SQL_CASES)


@pytest.mark.parametrize("case", SQL_CASES, ids=[c["name"] for c in SQL_CASES])
def test_hostile_sql(case: dict, canary_db: Path) -> None:
    before = sha256(canary_db)
    listing = sorted(p.name for p in canary_db.parent.iterdir())
    started = time.perf_counter()
    with TreePeak() as tree:
        try:
            run_sandboxed(
                canary_db, case["sql"], max_rows=100, timeout_s=TIMEOUT_S, role=case["role"]
            )
            message = None
        except SandboxRefusal as exc:
            message = str(exc)
    elapsed = time.perf_counter() - started
    assert message is not None, f"{case['name']} ran"
    if case["expect"] == "refused":
        assert "time limit" not in message, message
    if case["expect"] == "stopped":
        assert "time limit" in message, message
    assert case["says"].lower() in message.lower(), message
    assert "\n" not in message and "Traceback" not in message
    assert CANARY not in message
    assert elapsed < TIMEOUT_S + 2, f"{elapsed:.1f} s"
    grown = tree.peak - tree.base
    assert grown < MEMORY_LIMIT_BYTES + (256 << 20), f"peak grew {grown >> 20} MB"
    assert sha256(canary_db) == before
    assert sorted(p.name for p in canary_db.parent.iterdir()) == listing


@pytest.mark.parametrize("value", TIMEOUTS["refused"], ids=repr)
def test_bad_timeouts_are_refused(canary_db: Path, value: object) -> None:
    shown = float(value) if isinstance(value, str) and value not in ("", "abc") else value
    with pytest.raises(SandboxRefusal, match="timeout must be seconds in"):
        run_sandboxed(canary_db, "SELECT 1", timeout_s=shown)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", TIMEOUTS["accepted"], ids=repr)
def test_good_timeouts_run(canary_db: Path, value: object) -> None:
    assert run_sandboxed(canary_db, "SELECT 1 AS x", timeout_s=float(value)).frame["x"][0] == 1


def _cli(*args: str, db: Path | None = None) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    prefix = ["--db", str(db)] if db else []
    return subprocess.Popen(
        [sys.executable, "-m", "warehouse", *prefix, *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan", "1e999", "301"])
def test_cli_timeout_values_are_one_line_errors(canary_db: Path, value: str) -> None:
    proc = _cli("sql", "SELECT 1", f"--timeout={value}", db=canary_db)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip().count("\n") == 0 and err.startswith("error: --timeout"), err


ENDLESS = "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT max(n) FROM t"


@pytest.mark.parametrize("delay_s", [0.4, 1.0, 1.8, 2.6, 3.5])
def test_ctrl_c_at_any_moment_is_clean(canary_db: Path, delay_s: float) -> None:
    before = sha256(canary_db)
    proc = _cli("sql", ENDLESS, "--timeout", "30", db=canary_db)
    time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "OSError" not in err, err
    assert proc.returncode in (130, 0, 2), err
    assert sha256(canary_db) == before


@pytest.mark.parametrize("timeout_s", [0.01, 0.05, 0.2, 0.7])
def test_stopping_at_any_moment_is_clean(canary_db: Path, timeout_s: float) -> None:
    """The time limit can fall while the child opens, checks, plans or runs the query."""
    before = sha256(canary_db)
    started = time.perf_counter()
    with pytest.raises(SandboxRefusal) as info:
        run_sandboxed(canary_db, ENDLESS, timeout_s=timeout_s)
    assert time.perf_counter() - started < timeout_s + 2
    assert str(info.value) == f"query stopped after the {timeout_s:g} s time limit"
    assert sha256(canary_db) == before


# --- exports -------------------------------------------------------------------------------


def _cells_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {"description": [c[0] for c in CSV_CELLS], "n": list(range(len(CSV_CELLS)))}
    )


def test_csv_cells_are_neutralised_everywhere(tmp_path: Path) -> None:
    frame = _cells_frame()
    expected = [c[1] for c in CSV_CELLS]
    for data in (csv_bytes(frame), export_bytes(frame, "CSV")):
        assert _texts(pl.read_csv(io.BytesIO(data))) == expected
    path = write_frame_atomic(frame, tmp_path / "x.csv", sheet="x")
    assert _texts(pl.read_csv(path)) == expected
    raw = _texts(pl.read_csv(io.BytesIO(csv_bytes(frame, raw=True))))
    assert raw == [c[0] for c in CSV_CELLS]


def _texts(frame: pl.DataFrame) -> list[str]:
    return frame["description"].fill_null("").to_list()


def test_a_formula_column_name_is_neutralised() -> None:
    data = csv_bytes(pl.DataFrame({"=1+1": ["a"]}))
    assert data.decode().splitlines()[0] == "'=1+1"


@pytest.mark.parametrize("target", ["/nonexistent/x.csv", "{tmp}", "{tmp}/sub.csv/"])
def test_plan_export_to_a_bad_path_changes_nothing(
    canary_db: Path, tmp_path: Path, target: str
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(canary_db, db)
    before = sha256(db)
    out = target.replace("{tmp}", str(tmp_path))
    if out.endswith("/"):
        Path(out).mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "forecasting", "--db", str(db), "plan", "--export", out],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "--export" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sha256(db) == before  # reorder_plan not replaced


# --- ingest --------------------------------------------------------------------------------


def _reasons(db: Path, load_id: str) -> dict[str, int]:
    with reading(db) as con:
        rows = con.execute(
            "SELECT reason, count(*) FROM quarantine WHERE load_id = $l GROUP BY reason",
            {"l": load_id},
        ).fetchall()
    return {r: int(n) for r, n in rows}


@pytest.mark.parametrize("name", [k for k in INGEST if k != "about"])
def test_hostile_ingest_files(name: str, demo_db: Path) -> None:
    expected = INGEST[name]
    path = HOSTILE / "ingest" / name
    load = ingest_online_retail if expected["kind"] == "online-retail" else ingest_inventory
    before = sha256(demo_db)
    if "refused" in expected:
        with pytest.raises(WarehouseError, match=expected["refused"]):
            load(demo_db, path)
        assert sha256(demo_db) == before
        return
    report = load(demo_db, path)
    if "reasons" in expected:
        assert report.rows_accepted == expected["accepted"]
        assert report.quarantine_reasons == expected["reasons"]
        assert _reasons(demo_db, report.load_id) == expected["reasons"]
    if "dates" in expected:
        with reading(demo_db) as con:
            got = con.execute(
                "SELECT strftime(sold_at, '%Y-%m-%d') FROM raw_sales_line "
                "WHERE load_id = $l ORDER BY product_code",
                {"l": report.load_id},
            ).fetchall()
        assert [g[0] for g in got] == expected["dates"]


def test_every_sheet_of_a_workbook_is_loaded(demo_db: Path, tmp_path: Path) -> None:
    base = pl.read_csv(HOSTILE / "ingest" / "month_first.csv", infer_schema=False)
    book = tmp_path / "two.xlsx"
    import xlsxwriter  # polars' Excel writer

    with xlsxwriter.Workbook(book) as wb:
        base.write_excel(wb, worksheet="Year 2009-2010")
        base.with_columns(pl.col("StockCode") + "X").write_excel(wb, worksheet="Year 2010-2011")
    report = ingest_online_retail(demo_db, book)
    assert report.rows_accepted == 4
    assert any("Year 2010-2011" in n for n in report.notes)
    one = ingest_online_retail(demo_db, book, sheet="Year 2010-2011")
    assert "not loaded: 'Year 2009-2010'" in one.notes[0]
    with pytest.raises(WarehouseError, match="no sheet 'Nope'.*Year 2009-2010"):
        ingest_online_retail(demo_db, book, sheet="Nope")


def test_online_retail_takes_a_member_of_a_zip(demo_db: Path, tmp_path: Path) -> None:
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(HOSTILE / "ingest" / "day_first.csv", "a.csv")
        zf.write(HOSTILE / "ingest" / "month_first.csv", "b.csv")
    with pytest.raises(WarehouseError, match="pick one with --member"):
        ingest_online_retail(demo_db, archive)
    assert ingest_online_retail(demo_db, archive, member="b.csv").rows_accepted == 2
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "warehouse",
            "--db",
            str(demo_db),
            "ingest",
            "online-retail",
            str(archive),
            "--member",
            "a.csv",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stderr


def test_the_hash_is_of_the_bytes_that_were_loaded(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file replaced while the load runs: load_log holds the hash of the rows loaded."""
    from warehouse.ingest import online_retail

    path = tmp_path / "lines.csv"
    shutil.copyfile(HOSTILE / "ingest" / "month_first.csv", path)
    original = sha256(path)
    real_prepare = online_retail.prepare

    def prepare_then_replace(raw: pl.DataFrame, p: Path, **kwargs: object) -> tuple:
        shutil.copyfile(HOSTILE / "ingest" / "day_first.csv", path)  # replaced mid-load
        return real_prepare(raw, p, **kwargs)

    monkeypatch.setattr(online_retail, "prepare", prepare_then_replace)
    report = ingest_online_retail(demo_db, path)
    assert report.file_sha256 == original != sha256(path)
    with reading(demo_db) as con:
        logged = con.execute(
            "SELECT file_sha256 FROM load_log WHERE load_id = $l", {"l": report.load_id}
        ).fetchall()[0][0]
    assert logged == original


# --- sign-in -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "env", "required"),
    AUTH["signin_required"],
    ids=[repr(c[:2]) for c in AUTH["signin_required"]],
)
def test_signin_required_corpus(address: str | None, env: dict, required: bool) -> None:
    assert auth.signin_required(address, env) is required


def test_auth_off_beyond_loopback_says_so() -> None:
    warning = auth.signin_warning("0.0.0.0", {"SHELFWISE_AUTH": "0"})
    assert "ignored" in warning and "0.0.0.0" in warning
    assert auth.signin_warning("127.0.0.1", {"SHELFWISE_AUTH": "0"}) == ""


@pytest.mark.parametrize(("mode", "outcome"), AUTH["users_file_modes"])
def test_users_file_permissions(tmp_path: Path, mode: str, outcome: str) -> None:
    path = tmp_path / "users.toml"
    auth.add_user("alice", "viewer", "long-enough", path)
    path.chmod(int(mode, 8))
    if outcome == "ok":
        assert set(auth.load_users(path)) == {"alice"}
    else:
        with pytest.raises(WarehouseError, match="chmod 600"):
            auth.load_users(path)


def test_a_stranger_cannot_lock_out_the_real_user(tmp_path: Path) -> None:
    path = tmp_path / "users.toml"
    auth.add_user("alice", "analyst", "right-password", path)
    limiter = SignInLimiter(state_path=tmp_path / "limiter.json")
    home = "10.0.0.1"
    assert auth.authenticate("alice", "right-password", path=path, limiter=limiter, client=home)
    for _ in range(12):  # a stranger fails on purpose, as fast as allowed
        try:
            auth.authenticate("alice", "guess", path=path, limiter=limiter, client="203.0.113.9")
        except SignInLocked:
            break
    with pytest.raises(SignInLocked, match="this address"):
        auth.authenticate("alice", "guess", path=path, limiter=limiter, client="203.0.113.9")
    with pytest.raises(SignInLocked, match="'alice'"):  # a new address waits
        auth.authenticate(
            "alice", "right-password", path=path, limiter=limiter, client="198.51.100.7"
        )
    user = auth.authenticate("alice", "right-password", path=path, limiter=limiter, client=home)
    assert user == auth.User("alice", "analyst")  # the known client passes at once


def test_spraying_many_names_from_one_address_is_slowed(tmp_path: Path) -> None:
    limiter = SignInLimiter(state_path=tmp_path / "limiter.json")
    path = tmp_path / "users.toml"
    auth.add_user("bob", "viewer", "long-enough", path)
    with pytest.raises(SignInLocked, match="this address"):
        for i in range(20):
            auth.authenticate(
                f"user{i}", "Password1", path=path, limiter=limiter, client="203.0.113.5"
            )
    assert i == limiter.free_failures + 1


def test_limiter_state_is_shared_between_processes(tmp_path: Path) -> None:
    state = tmp_path / "limiter.json"
    code = (
        "import sys; from warehouse.ratelimit import SignInLimiter; "
        "from pathlib import Path; l = SignInLimiter(state_path=Path(sys.argv[1])); "
        "[l.record_failure('carol', '192.0.2.4') for _ in range(5)]"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(state)], env=env) for _ in range(2)]
    assert all(p.wait(timeout=60) == 0 for p in procs)
    limiter = SignInLimiter(state_path=state)
    with pytest.raises(SignInLocked):
        limiter.check("carol")
    assert json.loads(state.read_text())["counters"]["name:carol"]["failures"] == 10
    assert oct(state.stat().st_mode & 0o777) == "0o600"
