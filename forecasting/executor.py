"""The one seam through which per-series work runs: local processes by default.

A distributed engine (Ray, Dask, Spark) can take the place of `ProcessExecutor` by implementing
`Executor.map`. Failures are returned, not raised: `map` yields `(item_index, result_or_error)`.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol

from tqdm import tqdm

log = logging.getLogger(__name__)


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
    except Exception as exc:  # noqa: BLE001 - a failing series is reported, never fatal
        return exc


@dataclass(frozen=True)
class SerialExecutor:
    """In-process, one item at a time (tests, tiny jobs)."""

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
            yield from SerialExecutor(self.progress).map(fn, items, desc)
            return
        # spawn, not fork: forking after LightGBM/OpenMP threads started can deadlock
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            futures = {pool.submit(_safe, fn, item): i for i, item in enumerate(items)}
            for fut in tqdm(
                as_completed(futures), total=len(futures), desc=desc, disable=not self.progress
            ):
                yield futures[fut], fut.result()
