"""Two-tower validation recall: torch DDP in N processes beside one process, same data and seed.

Usage:
    python bench/bench_ddp.py --db /tmp/scale/demo.duckdb [--seeds 0,1,2] [--workers 1,2]

For every seed and worker count, `recsys.ddp.fit_ddp` trains the two-tower (what
`recsys train --workers N` runs, without the ranker and the registry) on the same interactions
and prints the validation recall@K of every epoch (new items bought in the last `val_days`, the
early-stopping metric), the best epoch's recall, the loss and the wall time. The spread over
seeds of one process is the noise that the DDP recall is compared with.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from recsys.data import load_train_data
from recsys.ddp import fit_ddp
from recsys.train import TwoTowerConfig


def main() -> None:
    """Print one line per (workers, seed) run and a mean +- sd summary per worker count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--epochs", type=int, default=TwoTowerConfig.epochs)
    parser.add_argument("--examples", type=int, default=TwoTowerConfig.max_examples_per_epoch)
    args = parser.parse_args()
    data = load_train_data(args.db)
    print(
        f"{args.db}: {data.n_users:,} customers, {data.n_items:,} items, "
        f"{data.events.height:,} purchases; load average {os.getloadavg()}",
        flush=True,
    )
    best: dict[int, list[float]] = {}
    for workers in (int(w) for w in args.workers.split(",")):
        for seed in (int(s) for s in args.seeds.split(",")):
            config = TwoTowerConfig(
                epochs=args.epochs,
                max_examples_per_epoch=args.examples,
                seed=seed,
                show_progress=False,
            )
            start = time.perf_counter()
            model = fit_ddp(data, config, workers)
            seconds = time.perf_counter() - start
            recalls = [float(e.get("val_recall", float("nan"))) for e in model.history]
            best.setdefault(workers, []).append(max(recalls))
            print(
                f"workers {workers} seed {seed}: {seconds:6.1f} s, epochs {len(recalls)}, "
                f"val recall@{config.val_k} per epoch "
                + " ".join(f"{r:.4f}" for r in recalls)
                + f", best {max(recalls):.4f}, last loss {model.history[-1]['loss']:.3f}; "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    for workers, values in best.items():
        sd = statistics.stdev(values) if len(values) > 1 else float("nan")
        print(
            f"workers {workers}: best val recall mean {statistics.mean(values):.4f} "
            f"sd {sd:.4f} over {len(values)} seeds"
        )


if __name__ == "__main__":
    main()
