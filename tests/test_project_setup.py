"""The set-up contract: two README commands, CI calls them, torch stays on the CPU wheel."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import REPO


def test_readme_starts_with_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    first_block = text.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    commands = [c for c in commands if c and c != "bash"]
    assert commands[:2] == ["make run", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)


def test_torch_is_bounded_to_the_cpu_wheel_range() -> None:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = meta["project"]["dependencies"]
    torch = [d for d in deps if d.startswith("torch")]
    assert torch and "<2.14" in torch[0]
    for required in ("streamlit", "polars", "duckdb", "lightgbm", "plotly", "prophet", "pyarrow"):
        assert any(d.startswith(required) for d in deps), required


def test_make_run_builds_demo_runs_pipeline_and_serves_on_localhost() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "-m warehouse --db $(DB) demo" in makefile
    # re-runs what is missing or stale (issue 17), not only what is missing
    assert "-m services --db $(DB) pipeline\n" in makefile
    assert "--server.address 127.0.0.1 --server.port $(PORT)" in makefile
