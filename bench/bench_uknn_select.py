"""Neighbour selection in `recsys.uknn.UserKNN.scores`: numpy's argpartition beside torch's top-k.

Each export chunk picks, for every customer of the chunk, the k most similar customers of the
pool from a dense (chunk, pool) float32 similarity matrix. Session 33's profile of the scale-1
demo export put `np.argpartition` at 11.8 of its 96 s; commit 9fb3a04 replaced it with
`torch.topk`. This bench times both on the same seeded matrices (shapes of the demo export's
chunks and of Online Retail II's pool), best of `--repeats`, and checks that both pick the same
k values in every row.

Usage:
    python bench/bench_uknn_select.py [--repeats 5] [--k 50]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numpy as np
import torch

SHAPES: tuple[tuple[int, int], ...] = ((2_000, 19_865), (2_000, 4_300), (500, 19_865))


def _best(fn: Callable[[np.ndarray, int], object], sim: np.ndarray, k: int, repeats: int) -> float:
    """Best wall seconds of `repeats` calls of `fn(sim, k)`."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(sim, k)
        times.append(time.perf_counter() - t)
    return min(times)


def by_argpartition(sim: np.ndarray, k: int) -> np.ndarray:
    """(rows, k) the k largest values of each row, as uknn picked them before 9fb3a04."""
    top = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    return np.take_along_axis(sim, top, axis=1)


def by_topk(sim: np.ndarray, k: int) -> np.ndarray:
    """(rows, k) the k largest values of each row, as uknn picks them now."""
    return torch.from_numpy(sim).topk(k, dim=1, sorted=False)[0].numpy()


def main() -> None:
    """Print one row per matrix shape: seconds of each method, the ratio, and whether they agree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    print(f"{'chunk x pool':<16}{'argpartition s':>16}{'torch.topk s':>14}{'ratio':>8}  same picks")
    for rows, pool in SHAPES:
        sim = rng.standard_normal((rows, pool), dtype=np.float32)
        same = np.array_equal(
            np.sort(by_argpartition(sim, args.k), axis=1), np.sort(by_topk(sim, args.k), axis=1)
        )
        t_np = _best(by_argpartition, sim, args.k, args.repeats)
        t_torch = _best(by_topk, sim, args.k, args.repeats)
        print(
            f"{f'{rows:,} x {pool:,}':<16}{t_np:>16.3f}{t_torch:>14.3f}"
            f"{t_np / t_torch:>7.1f}x  {'yes' if same else 'NO'}"
        )


if __name__ == "__main__":
    main()
