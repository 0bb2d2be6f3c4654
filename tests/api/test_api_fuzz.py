"""Property-based fuzzing of the whole OpenAPI schema with schemathesis (from PyPI), as an
analyst: no 5xx, every response matching its documented schema, status, content type and
headers. Light form by default (few examples per operation); `heavy` runs many more."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.conftest import ApiServer
from tests.conftest import HEAVY
from warehouse.files import file_sha256

#: Schema-valid requests the API rightly refuses (SQL that does not parse, level=item without a
#: product) are not failures: the schema cannot say "a query that parses".
EXCLUDED_CHECKS = "positive_data_acceptance"


def run_schemathesis(
    server: ApiServer, tmp_path: Path, max_examples: int, phases: str, max_time_s: int
) -> subprocess.CompletedProcess[str]:
    """`schemathesis run` on the live schema with the fuzzing key; bounded in examples and time."""
    cli = Path(sys.executable).with_name("schemathesis")
    command = [
        str(cli) if cli.exists() else shutil.which("schemathesis") or "schemathesis",
        "run",
        f"{server.url}/openapi.json",
        "-H",
        f"Authorization: Bearer {server.tokens['fuzz']}",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--max-examples",
        str(max_examples),
        "--phases",
        phases,
        "--seed",
        "15",
        "--request-timeout",
        "120",
        "--warnings",
        "off",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=max_time_s
    )


def _fuzz(
    server: ApiServer, tmp_path: Path, max_examples: int, phases: str, max_time_s: int
) -> None:
    before = file_sha256(server.db)
    result = run_schemathesis(server, tmp_path, max_examples, phases, max_time_s)
    out = result.stdout + result.stderr
    print(out[-1200:])  # the summary: operations, phases, test cases (shown with -s)
    assert result.returncode == 0, out[-6000:]
    assert "Tested: 9" in out, out[-3000:]  # every operation of the schema
    assert file_sha256(server.db) == before  # /v1/sql was fuzzed too: nothing written


def test_fuzz_the_openapi_schema_light(api_server: ApiServer, tmp_path: Path) -> None:
    _fuzz(api_server, tmp_path, max_examples=8, phases="examples,fuzzing", max_time_s=240)


@pytest.mark.heavy
@pytest.mark.skipif(not HEAVY, reason="many examples per operation; SHELFWISE_HEAVY=1 runs it")
def test_fuzz_the_openapi_schema_heavy(api_server: ApiServer, tmp_path: Path) -> None:
    _fuzz(
        api_server,
        tmp_path,
        max_examples=200,
        phases="examples,coverage,fuzzing,stateful",
        max_time_s=1500,
    )
