"""The first bulk list of a segment after a server starts, per checkout (issue 18).

Each measurement is a fresh process set up as the app's launcher does (`rank_in_background`,
the serving state loaded and warmed, one customer's list asked, which starts the ranking of
every customer in the background); `--delay` seconds later (a user opening the Bulk list tab)
the segment's bulk list is timed, as the page asks for it (`recsys.service.bulk_recommendations`).
Compare checkouts in one run (same warehouse, back to back, segments interleaved):

    PYTHONPATH=$PWD .venv/bin/python bench/bench_first_bulk.py --db /tmp/app24/demo.duckdb \\
        --repo /tmp/app24/before --repo . --segment regular --segment loyal --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def child(db: str, segment: str, delay_s: float) -> dict[str, float | int]:
    """In this process (the checkout on PYTHONPATH): warm up as a server would, then time the
    segment's first bulk list."""
    from recsys import service
    from recsys.lists import rank_in_background

    rank_in_background(True)
    started = time.perf_counter()
    state = service.serving_state(db)
    state.warm()
    service.recommend_for_customer(db, str(next(iter(state.data.user_index))), k=10)
    warm_s = time.perf_counter() - started
    time.sleep(delay_s)
    started = time.perf_counter()
    bulk = service.bulk_recommendations(db, segment=segment, k=20)
    return {
        "warm_s": warm_s,
        "bulk_s": time.perf_counter() - started,
        "customers": bulk["customer_id"].n_unique(),
        "rows": bulk.height,
    }


def measure(repo: Path, db: str, segment: str, delay_s: float) -> dict[str, float | int]:
    """One fresh process of `repo` (its code on PYTHONPATH) running `child`."""
    env = {**os.environ, "PYTHONPATH": str(repo)}
    out = subprocess.run(
        [sys.executable, __file__, "--child", "--db", db, "--segment", segment]
        + ["--delay", str(delay_s)],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Every (segment, checkout) `rounds` times, interleaved; one table of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("SHELFWISE_DB", "data/shelfwise.duckdb"))
    parser.add_argument("--repo", action="append", type=Path, help="checkout (repeatable)")
    parser.add_argument("--segment", action="append", help="segment (repeatable)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delay", type=float, default=2.0, help="seconds after the warm-up")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    segments = args.segment or ["regular", "loyal"]
    if args.child:
        print(json.dumps(child(args.db, segments[0], args.delay)))
        return
    db = str(Path(args.db).resolve())
    repos = [r.resolve() for r in (args.repo or [Path(".")])]
    load = os.getloadavg()[0]
    runs: dict[tuple[str, Path], list[dict[str, float | int]]] = {}
    for _ in range(args.rounds):
        for segment in segments:
            for repo in repos:
                runs.setdefault((segment, repo), []).append(measure(repo, db, segment, args.delay))
    print(
        f"First bulk list of a segment, {Path(db).name}, {args.delay:.0f} s after the warm-up; "
        f"median of {args.rounds} fresh processes; load average {load:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    print("| segment | customers | " + " | ".join(f"{r.name} (s)" for r in repos) + " |")
    print("|" + " --- |" * (2 + len(repos)))
    for segment in segments:
        cells = [statistics.median(float(m["bulk_s"]) for m in runs[segment, r]) for r in repos]
        customers = runs[segment, repos[-1]][0]["customers"]
        print(f"| {segment} | {customers:,} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    for (segment, repo), values in runs.items():
        print(f"# {segment} {repo.name}: " + json.dumps(values))


if __name__ == "__main__":
    main()
