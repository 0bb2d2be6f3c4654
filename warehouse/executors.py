"""Where fanned-out work runs: `local` (this machine's processes) or `ray` (a Ray cluster).

One interface for both engines: `Executor.map(fn, items)` yields `(item_index, result)` with
failures returned as the exception object. This module sits in the lowest layer so that
`forecasting` and `recsys` share it; `ProcessExecutor` is the local process pool of per-series
fits (Prophet). Choose with
`--executor local|ray` or `SHELFWISE_EXECUTOR`; `open_executor` gives the engine for one run.

With `ray`, `RAY_ADDRESS` (Ray's own variable) names a running cluster; without it a local Ray
runtime is started for the run (loopback only, no dashboard) and shut down after it. `ray` is an
optional extra (`pip install -e '.[ray]'`) and is imported only when `ray` is chosen.
Workers receive column arrays (numpy, zero-copy through Ray's object store) or polars/Arrow
frames, never row lists; they never open the warehouse: the driver reads it once and writes
the results once.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from tqdm import tqdm

from warehouse.db import WarehouseError

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")
ENV_VAR = "SHELFWISE_EXECUTOR"
#: Starts of a local Ray runtime tried before giving up, and the pause between them (s).
START_ATTEMPTS = 3
RETRY_PAUSE_S = 5.0


class ExecutorError(WarehouseError):
    """A bad executor choice, an engine that cannot start, or a chunk that failed after the
    engine's retries (one line; the command writes nothing)."""


class Executor(Protocol):
    """Runs `fn(item)` for every item; yields (index, result) or (index, Exception)."""

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str = ""
    ) -> Iterator[tuple[int, Any]]:
        """Apply `fn` to each item (any order); errors come back as the exception object."""
        ...


def _safe(fn: Callable[[Any], Any], item: Any) -> Any:
    try:
        return fn(item)
    except Exception as exc:  # noqa: BLE001 - a failing chunk is reported, the caller decides
        return exc


@dataclass(frozen=True)
class InlineExecutor:
    """In this process, one item at a time: the `local` engine for chunked work."""

    progress: bool = False

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str = ""
    ) -> Iterator[tuple[int, Any]]:
        """See `Executor.map`."""
        for i, item in enumerate(tqdm(items, desc=desc, disable=not self.progress)):
            yield i, _safe(fn, item)


@dataclass(frozen=True)
class ProcessExecutor:
    """A local process pool (`workers` processes); `fn` and items must be picklable."""

    workers: int = 2
    progress: bool = True

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str = ""
    ) -> Iterator[tuple[int, Any]]:
        """See `Executor.map`."""
        if self.workers == 1 or len(items) <= 1:
            yield from InlineExecutor(self.progress).map(fn, items, desc)
            return
        # spawn, not fork: forking after LightGBM/OpenMP threads started can deadlock
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            futures = {pool.submit(_safe, fn, item): i for i, item in enumerate(items)}
            for fut in tqdm(
                as_completed(futures), total=len(futures), desc=desc, disable=not self.progress
            ):
                yield futures[fut], fut.result()


@dataclass(frozen=True)
class RayExecutor:
    """Ray tasks, at most `in_flight` submitted at once (driver memory bounded by chunks).

    A task whose worker process dies is retried by Ray up to `max_retries` times; an exception
    raised by `fn` is not retried (it is returned like any failure).
    """

    max_retries: int = 3
    in_flight: int = 0
    progress: bool = True

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str = ""
    ) -> Iterator[tuple[int, Any]]:
        """See `Executor.map`; results are yielded as tasks finish."""
        import ray

        remote = ray.remote(max_retries=self.max_retries, retry_exceptions=False)(_safe)
        fn_ref = ray.put(fn)
        window = self.in_flight or max(2, 2 * int(ray.available_resources().get("CPU", 1)))
        pending: dict[Any, int] = {}
        bar = tqdm(total=len(items), desc=desc, disable=not self.progress)
        next_item = 0
        try:
            while pending or next_item < len(items):
                while next_item < len(items) and len(pending) < window:
                    pending[remote.remote(fn_ref, items[next_item])] = next_item
                    next_item += 1
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    index = pending.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as exc:  # noqa: BLE001 - retries exhausted: report it
                        result = exc
                    bar.update(1)
                    yield index, result
        finally:
            bar.close()
            for ref in pending:
                ray.cancel(ref, force=True)


def executor_name(value: str | None = None) -> str:
    """The engine: `value` (the --executor option), else $SHELFWISE_EXECUTOR, else `local`."""
    name = (value or os.environ.get(ENV_VAR) or "local").strip().lower()
    if name not in ENGINES:
        source = "--executor" if value else ENV_VAR
        raise ExecutorError(f"{source} {name!r}: expected one of {', '.join(ENGINES)}")
    return name


def add_executor_option(parser: argparse.ArgumentParser) -> None:
    """Add `--executor local|ray` (default $SHELFWISE_EXECUTOR, else local)."""
    parser.add_argument(
        "--executor",
        choices=ENGINES,
        default=None,
        help="where fanned-out chunks run: local processes or ray (RAY_ADDRESS names a "
        "cluster, else a local Ray runtime runs for the command); default $SHELFWISE_EXECUTOR "
        "or local",
    )


def _start_ray(num_cpus: int | None) -> bool:
    """Connect to $RAY_ADDRESS or start a loopback-only local runtime; True if we started it."""
    try:
        import ray
    except ImportError as exc:
        raise ExecutorError(
            "--executor ray: the ray package is not installed (pip install -e '.[ray]')"
        ) from exc
    if ray.is_initialized():
        return False
    address = os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        start_local_ray(num_cpus or os.cpu_count() or 1)
    return True


def start_local_ray(num_cpus: int, attempts: int = START_ATTEMPTS) -> int:
    """Start a loopback-only local Ray runtime of `num_cpus` CPUs; returns the attempts used.

    Ray gives its raylet a fixed 30 s to register, which an overloaded machine can miss
    ("The current node timed out during startup"): a failed start is shut down and retried,
    up to `attempts` times, `RETRY_PAUSE_S` apart.

    Raises:
        ExecutorError: every attempt failed (the last error in the message).
    """
    import ray

    error: Exception | None = None
    for attempt in range(1, attempts + 1):
        try:
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
            )
            return attempt
        except Exception as exc:  # noqa: BLE001 - Ray raises a bare Exception on a timeout
            error = exc
            log.warning("local Ray runtime: start %d of %d failed (%s)", attempt, attempts, exc)
            ray.shutdown()
            if attempt < attempts:
                time.sleep(RETRY_PAUSE_S)
    raise ExecutorError(f"the local Ray runtime did not start in {attempts} attempts: {error}")


@contextmanager
def open_executor(
    value: str | None = None, *, num_cpus: int | None = None, progress: bool = True
) -> Iterator[Executor]:
    """The engine for one command; a Ray runtime started here is shut down on exit.

    Args:
        value: `local`, `ray`, or None for $SHELFWISE_EXECUTOR (default `local`).
        num_cpus: CPUs of a local Ray runtime (default: all); ignored with RAY_ADDRESS.
        progress: tqdm bars over chunks.
    """
    if executor_name(value) == "local":
        yield InlineExecutor(progress)
        return
    started = _start_ray(num_cpus)
    try:
        yield RayExecutor(progress=progress)
    finally:
        if started:
            import ray

            ray.shutdown()
