"""A real API server for the API tests: uvicorn on 127.0.0.1 (a free port) over the small demo
with a trained model (one epoch), a forecast run (LightGBM, no Prophet) and a reorder plan, and
keys made with the real `python -m warehouse keys` command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from services.freshness import snapshot, step_inputs
from tests.conftest import copy_warehouse
from warehouse.db import reading
from warehouse.freshness import write_stamps

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 120.0
ROLES = ("viewer", "merchandiser", "analyst", "admin")


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), **extra}


def api_env(home: Path) -> dict[str, str]:
    """The environment of a server whose keys file lives in `home`."""
    return _env(SHELFWISE_KEYS=str(home / "api_keys.json"))


@pytest.fixture(scope="session")
def api_db(outputs_demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with every output the API serves, made by the real command lines: a
    private copy of `outputs_demo_master` (`recsys train --epochs 1`, `forecasting run
    --horizon 14`, `forecasting plan`), then the export step for the 40 busiest customers."""
    db = copy_warehouse(outputs_demo_master, tmp_path_factory.mktemp("api_db") / "demo.duckdb")
    folder = db.parent
    with reading(db) as con:  # the exported lists: the 40 busiest customers (the rest go live)
        busiest = con.execute(
            "SELECT customer_id FROM fct_sales WHERE customer_id IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 40"
        ).fetchall()
    (folder / "export_customers.txt").write_text("".join(f"{c}\n" for (c,) in busiest))
    export = [
        "-m",
        "recsys",
        "--db",
        str(db),
        "--quiet",
        "export",
        "--customers",
        str(folder / "export_customers.txt"),
        "--out",
        str(folder / "export.parquet"),
        "--exclude-purchased",  # the default rules, as the pipeline's export step
    ]
    subprocess.run(
        [sys.executable, *export],
        cwd=REPO,
        check=True,
        timeout=900,
        env=_env(),
        stdout=subprocess.DEVNULL,
    )
    # what the pipeline records after its export step: the lists are fresh for this model
    write_stamps(db, [("recsys export", step_inputs("recsys export", snapshot(db)), None)])
    return db


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def add_key(env: dict[str, str], name: str, role: str, *extra: str) -> str:
    """`python -m warehouse keys add NAME --role ROLE`; the token from its last line."""
    out = subprocess.run(
        [sys.executable, "-m", "warehouse", "keys", "add", name, "--role", role, *extra],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


@dataclass
class ApiServer:
    """A running server: base URL, its warehouse, keys file, audit log and tokens by name."""

    url: str
    db: Path
    keys: Path
    audit: Path
    env: dict[str, str]
    tokens: dict[str, str]

    def client(self, token: str | None = None) -> httpx.Client:
        """An HTTP client for the server, sending `token` as the bearer key when given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120.0)


def start_server(
    db: Path, env: dict[str, str], log: Path, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `uvicorn api:app` (`workers` processes) on 127.0.0.1 and wait (bounded) until
    /v1/health answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    handle = open(log, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=30).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"the API server did not answer within {STARTUP_TIMEOUT_S:.0f} s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server, killing it if it does not stop within 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def api_server(api_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """The API on the small demo, with one key per role plus a revoked, a rate-limited and a
    fuzzing key."""
    home = tmp_path_factory.mktemp("api_home")
    keys, audit = home / "api_keys.json", home / "api_audit.log"
    env = _env(SHELFWISE_DB=str(api_db), SHELFWISE_KEYS=str(keys))
    tokens = {role: add_key(env, role, role, "--rate", "1000", "--burst", "1000") for role in ROLES}
    tokens["revoked"] = add_key(env, "revoked", "admin")
    subprocess.run(
        [sys.executable, "-m", "warehouse", "keys", "revoke", "revoked"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    tokens["limited"] = add_key(env, "limited", "viewer", "--rate", "0.2", "--burst", "3")
    tokens["fuzz"] = add_key(env, "fuzz", "analyst", "--rate", "100000", "--burst", "100000")
    proc, url = start_server(api_db, env, home / "server.log")
    try:
        yield ApiServer(url, api_db, keys, audit, env, tokens)
    finally:
        stop_server(proc)
