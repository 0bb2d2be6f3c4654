"""Two-tower training across processes with torch DistributedDataParallel.

`fit_ddp(data, config, workers)` starts `workers` processes (`torch.multiprocessing.spawn`)
that join one process group over 127.0.0.1 (gloo on CPU, NCCL when every rank has a GPU).
Every rank shuffles the epoch's examples with the same seed and takes its own equal slice, so
one epoch sees the same examples as one process, in `workers` times fewer steps per rank; DDP
averages the gradients (sparse embedding gradients included) after each step, so the ranks'
weights stay identical and rank 0 returns the model.
"""

from __future__ import annotations

import os
import socket
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from recsys.data import TrainData
from recsys.errors import RecsysError
from recsys.train import TwoTowerConfig, TwoTowerRecommender

#: How long a rank waits for the others (joining, or a step's gradient exchange).
TIMEOUT = timedelta(minutes=10)


class _BatchLoss(nn.Module):
    """The recommender's batch loss as a module forward, so DDP can wrap it."""

    def __init__(self, owner: TwoTowerRecommender) -> None:
        super().__init__()
        assert owner.net is not None
        self.net = owner.net
        self._owner = [owner]  # a list: not registered as a submodule

    def forward(self, idx: torch.Tensor, *tensors: Any) -> torch.Tensor:
        """Sampled-softmax loss of the batch `idx` (see `TwoTowerRecommender._batch_loss`)."""
        return self._owner[0]._batch_loss(idx, *tensors)


class DistributedTwoTower(TwoTowerRecommender):
    """`TwoTowerRecommender` whose steps run under DDP in a process group of `world` ranks."""

    def __init__(self, config: TwoTowerConfig, rank: int, world: int) -> None:
        super().__init__(config)
        self.rank, self.world = rank, world
        self._ddp: DistributedDataParallel | None = None

    def _epoch_order(self, order: np.ndarray) -> np.ndarray:
        usable = order.size // self.world * self.world  # equal shares: equal step counts
        return order[:usable][self.rank :: self.world]

    def _step_loss(self, idx: torch.Tensor, *tensors: Any) -> torch.Tensor:
        if self._ddp is None or self._ddp.module.net is not self.net:
            device = [self.device.index] if self.device.type == "cuda" else None
            self._ddp = DistributedDataParallel(_BatchLoss(self), device_ids=device)
        return self._ddp(idx, *tensors)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rank_main(
    rank: int, world: int, port: int, data: TrainData, config: TwoTowerConfig, out: str
) -> None:
    """One rank: join the group, train, and (rank 0) save the weights to `out`."""
    cuda = torch.cuda.is_available() and torch.cuda.device_count() >= world
    if cuda:
        torch.cuda.set_device(rank)
    dist.init_process_group(
        "nccl" if cuda else "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=TIMEOUT,
    )
    try:
        cfg = config if rank == 0 else TwoTowerConfig(**{**config.__dict__, "show_progress": False})
        model = DistributedTwoTower(cfg, rank, world)
        if cuda:
            model.device = torch.device("cuda", rank)
        model.fit(data)
        if rank == 0:
            torch.save({**model.to_state(), "examples_per_s": model.examples_per_s}, out)
    finally:
        dist.destroy_process_group()


def fit_ddp(data: TrainData, config: TwoTowerConfig, workers: int) -> TwoTowerRecommender:
    """Train the two-tower in `workers` processes under DDP; the fitted model (on this process).

    Raises:
        RecsysError: `workers` < 1, or a rank failed (its error is in the message).
    """
    if workers < 1:
        raise RecsysError(f"--workers: must be at least 1, got {workers}")
    if workers == 1:
        return TwoTowerRecommender(config).fit(data)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    with tempfile.TemporaryDirectory(prefix="shelfwise-ddp-") as tmp:
        out = str(Path(tmp) / "rank0.pt")
        try:
            mp.spawn(
                _rank_main,
                args=(workers, free_port(), data, config, out),
                nprocs=workers,
                join=True,
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()
            raise RecsysError(
                f"--workers {workers}: distributed training failed: {first[-1] if first else exc}"
            ) from exc
        saved = torch.load(out, weights_only=False)
    model = TwoTowerRecommender.from_state(saved["weights"], saved["meta"])
    model.config = config
    model.examples_per_s = float(saved["examples_per_s"]) * workers  # every rank's examples
    return model
