"""Reproducible installs: every dependency bounded below its next major, installs constrained."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _requirements() -> list[str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    deps = list(meta["project"]["dependencies"])
    for extra in meta["project"].get("optional-dependencies", {}).values():
        deps.extend(extra)
    return deps


def test_every_dependency_has_an_upper_bound() -> None:
    unbounded = [d for d in _requirements() if "<" not in d]
    assert not unbounded, f"no upper bound: {unbounded}"
    duckdb = next(d for d in _requirements() if d.startswith("duckdb"))
    assert "<3" in duckdb
    torch = next(d for d in _requirements() if d.startswith("torch"))
    assert ">=2.3" in torch and "<2.14" in torch


def test_make_installs_with_the_constraints_file_that_pins_every_dependency() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "pip install --quiet -c constraints.txt -e '.[dev]'" in makefile
    assert re.search(r"^constraints:", makefile, re.MULTILINE)
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[name.lower().replace("_", "-")] = version
    assert "shelfwise" not in pins
    for requirement in _requirements():
        name = re.split(r"[<>=!\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is not in constraints.txt"
