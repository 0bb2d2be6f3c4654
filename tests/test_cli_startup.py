"""The command lines start fast: `--help` and the light commands load no model library.

torch took 5-6 s and LightGBM, pandas and scipy.stats 1-3 s to import on the 2-core box; only
the commands that train, rank or forecast need them (`python -m recsys --help` was 6.2 s, now
about 1 s; `python -m forecasting --help` 4.8 s, now about 1 s).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "lightgbm", "prophet", "pandas", "scipy.stats")
PROBE = (
    "import sys\n"
    "from {package}.cli import main\n"
    "try:\n"
    "    main({argv!r})\n"
    "except SystemExit:\n"
    "    pass\n"
    "print('loaded:', ','.join(m for m in {heavy!r} if m in sys.modules))\n"
)


@pytest.mark.parametrize(
    ("package", "argv"),
    [
        ("recsys", ["--help"]),
        ("recsys", ["train", "--help"]),
        ("forecasting", ["--help"]),
        ("forecasting", ["run", "--help"]),
        ("forecasting", ["plan", "--help"]),
    ],
)
def test_help_loads_no_model_library(package: str, argv: list[str]) -> None:
    probe = PROBE.format(package=package, argv=argv, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "loaded:"


def test_recsys_status_without_a_model_loads_no_torch(tmp_path: Path) -> None:
    db = tmp_path / "none.duckdb"
    probe = PROBE.format(package="recsys", argv=["--db", str(db), "status"], heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    assert "no trained model" in lines[0]
    assert lines[-1] == "loaded:"
