"""Start-up time of the command lines: wall seconds of `python -m <package> ...` until it exits.

Each command runs `--runs` times per checkout, one after the other, on a warehouse path that does
not exist (so `status` answers "no trained model" and nothing else is read); the median is
printed, and with two checkouts the ratio after / before. Compare two checkouts in one run:

    git worktree add /tmp/cli_before <commit>
    .venv/bin/python bench/bench_cli_startup.py --repo /tmp/cli_before --repo . --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS: tuple[tuple[str, ...], ...] = (
    ("warehouse", "--help"),
    ("forecasting", "--help"),
    ("forecasting", "plan", "--help"),
    ("recsys", "--help"),
    ("recsys", "status"),
    ("services", "--help"),
)


def time_command(repo: Path, command: tuple[str, ...], db: Path, runs: int) -> float:
    """Median wall seconds of `python -m command` run from `repo` (its packages first)."""
    env = {**os.environ, "PYTHONPATH": str(repo), "SHELFWISE_DB": str(db)}
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", *command],
            cwd=repo,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", action="append", help="checkout to time (repeat: before, after)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    repos = [Path(r).resolve() for r in (args.repo or ["."])]
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    header = ["command", *[f"{r.name or r} (s)" for r in repos]]
    if len(repos) == 2:
        header.append("after / before")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "absent.duckdb"
        for command in COMMANDS:
            times = [time_command(repo, command, db, args.runs) for repo in repos]
            cells = ["python -m " + " ".join(command), *[f"{t:.2f}" for t in times]]
            if len(times) == 2:
                cells.append(f"{times[1] / times[0]:.2f}")
            print("| " + " | ".join(cells) + " |")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
