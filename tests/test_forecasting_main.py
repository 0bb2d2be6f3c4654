"""`python -m forecasting` tames OpenMP's spinning before LightGBM loads (a user's value wins)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import os, runpy, sys\n"
    "sys.argv = ['forecasting', '--help']\n"
    "try:\n"
    "    runpy.run_module('forecasting', run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "import lightgbm\n"  # loaded after the module ran: its setting came first
    "print('spin', os.environ.get('GOMP_SPINCOUNT'))\n"
)


@pytest.mark.parametrize(("given", "expected"), [(None, "1000"), ("5000", "5000")])
def test_the_cli_sets_the_openmp_spin_count_unless_the_user_did(
    given: str | None, expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    if given is not None:
        env["GOMP_SPINCOUNT"] = given
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == f"spin {expected}"
