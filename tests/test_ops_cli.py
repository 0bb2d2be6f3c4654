"""The four command lines: --db/--quiet before or after the sub-command, an example per --help."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from forecasting import cli as forecasting_cli
from recsys import cli as recsys_cli
from services import cli as services_cli
from warehouse import cli as warehouse_cli
from warehouse.cli_common import missing_examples

ROOT = Path(__file__).resolve().parents[1]
CLIS: dict[str, tuple[Callable[[], argparse.ArgumentParser], dict[str, str], list[str]]] = {
    "warehouse": (warehouse_cli._parser, warehouse_cli.EXAMPLES, ["ingest", "online-retail", "F"]),
    "recsys": (recsys_cli._parser, recsys_cli.EXAMPLES, ["status"]),
    "forecasting": (forecasting_cli._parser, forecasting_cli.EXAMPLES, ["plan"]),
    "services": (services_cli._parser, services_cli.EXAMPLES, ["pipeline", "--force"]),
}


@pytest.mark.parametrize("name", list(CLIS))
def test_global_options_before_or_after_the_sub_command(name: str) -> None:
    make, _, command = CLIS[name]
    after = make().parse_args([*command, "--db", "w.duckdb", "--quiet"])
    before = make().parse_args(["--db", "w.duckdb", "--quiet", *command])
    plain = make().parse_args(command)
    assert after.db == before.db == "w.duckdb"
    assert after.quiet and before.quiet
    assert plain.db is None and not plain.quiet


@pytest.mark.parametrize("name", list(CLIS))
def test_every_sub_command_has_an_example(name: str) -> None:
    make, examples, _ = CLIS[name]
    assert missing_examples(make(), examples) == []
    for example in examples.values():
        assert example.startswith("python -m ")


def test_help_of_a_sub_command_shows_its_example() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "forecasting", "plan", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "example:\n  python -m forecasting plan" in done.stdout
    assert "--db" in done.stdout and "--quiet" in done.stdout


def test_a_closed_pipe_ends_a_command_quietly(demo_db: Path) -> None:
    """`python -m warehouse sql ... | head -1`: no BrokenPipeError traceback, a shell's 141."""
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warehouse",
            "--db",
            str(demo_db),
            "sql",
            "SELECT range AS n FROM range(200000)",
            "--max-rows",
            "200000",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()  # the reader goes away, as `head -1` does
        errors = process.stderr.read().decode()
        code = process.wait(timeout=300)
    assert first.strip()
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
    assert code == 141
