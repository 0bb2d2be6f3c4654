"""Every customer's ranked candidates (`Ranked`), built in chunks by a `RankBuild`.

`rank_all` ranks a set of customers in one go (candidates, features, the ranker's scores). A
serving state ranks every customer once, but in chunks of `CHUNK` customers (`RankBuild`), so
that a request made meanwhile (a page's customer, a segment's bulk list) whose customers not
ranked yet are fewer than those left pauses the build between two chunks, ranks just those and
takes the others from the chunks done (`gather`) instead of waiting for everyone. A customer's
candidates, features and scores do not depend on which other customers are ranked with it, so
chunked, subset and one-go rankings are identical.

Thread-safety: one lock (`RankBuild._cond`) guards the build's progress; the finished `Ranked`
is published in one assignment after the last chunk (never a half-built one); one builder runs
the chunks at a time (a background thread, or a caller that needs everyone); a stopped or
failed build is resumed from its next chunk by the next caller that needs everyone; every wait
is bounded (a build that makes no progress for `STALL_S` raises `RecsysError`).
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recsys.candidates import generate
from recsys.data import TrainData
from recsys.errors import RecsysError
from recsys.features import feature_matrix
from recsys.ranker import BAND, RankerRecommender, rank_unit

log = logging.getLogger(__name__)

#: Customers ranked per chunk: about 1 s on 2 cores at scale 1 (the longest a request that
#: pauses the build waits for the chunk in progress to end).
CHUNK = 1024
#: A wait for every customer's ranking fails after this many seconds without a finished chunk.
STALL_S = 300.0
#: Subset rankings a build keeps until everyone is ranked (a page's lookups, a bulk list's
#: chunks reuse them); each can be most of the full ranking's size (about 500 MB at scale 1).
KEEP_SUBSETS = 2


@dataclass(frozen=True)
class Ranked:
    """Candidates of every user of one `TrainData`, sorted by user; `ptr` [n_users + 1]."""

    item: np.ndarray
    unit: np.ndarray  # BAND + unit score per candidate
    x: np.ndarray  # [rows, F] features
    ptr: np.ndarray
    keys: np.ndarray  # [rows] user * n_items + item, sorted
    named: np.ndarray  # [rows] named feature of the reason (-1 = not explained yet)
    text: np.ndarray  # [rows] object: the reason (None = not explained yet)


def rank_all(ranker: RankerRecommender, data: TrainData, users: np.ndarray) -> Ranked:
    """Candidates, features and ranker scores of `users` (sorted) of `data`."""
    users = np.sort(np.asarray(users, dtype=np.int64))
    assert ranker.model is not None and ranker.sources is not None
    cands = generate(ranker.sources, data, users)
    x = feature_matrix(data, cands, ranker.sources.category_codes)
    pred = ranker.model.predict(x)
    ptr = np.zeros(data.n_users + 1, np.int64)
    np.add.at(ptr, cands.user + 1, 1)
    return Ranked(
        cands.item,
        BAND + rank_unit(cands.user, pred),
        x,
        np.cumsum(ptr),
        cands.user * data.n_items + cands.item,
        np.full(cands.size, -1, np.int64),
        np.full(cands.size, None, dtype=object),
    )


def concat(parts: Sequence[Ranked]) -> Ranked:
    """One `Ranked` of parts over disjoint users, each part's users after the previous part's
    (the same arrays as one `rank_all` over all of them)."""
    if len(parts) == 1:
        return parts[0]
    counts = np.sum([np.diff(p.ptr) for p in parts], axis=0)
    return Ranked(
        np.concatenate([p.item for p in parts]),
        np.concatenate([p.unit for p in parts]),
        np.concatenate([p.x for p in parts]),
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        np.concatenate([p.keys for p in parts]),
        np.concatenate([p.named for p in parts]),
        np.concatenate([p.text for p in parts]),
    )


def gather(parts: Sequence[Ranked], users: np.ndarray) -> Ranked:
    """The rows of sorted `users` from parts over disjoint users, as one `Ranked` in user order
    (what `rank_all` over `users` gives); a part may hold other users too."""
    n_users = len(parts[0].ptr) - 1
    counts = np.zeros(n_users, np.int64)
    picks: list[tuple[Ranked, np.ndarray]] = []
    for part in parts:
        sizes = part.ptr[users + 1] - part.ptr[users]
        if sizes.any():
            counts[users] += sizes
            starts = np.repeat(part.ptr[users] - np.cumsum(sizes) + sizes, sizes)
            picks.append((part, starts + np.arange(int(sizes.sum()))))
    if len(picks) == 1 and len(picks[0][1]) == len(picks[0][0].item):
        return picks[0][0]  # the part holds exactly these users
    picks = picks or [(parts[0], np.zeros(0, np.int64))]  # none of them has a candidate
    keys = np.concatenate([p.keys[rows] for p, rows in picks])
    order = np.argsort(keys, kind="stable")  # keys = user * n_items + item: rank_all's order

    def take(name: str) -> np.ndarray:
        return np.concatenate([getattr(p, name)[rows] for p, rows in picks])[order]

    return Ranked(
        take("item"),
        take("unit"),
        take("x"),
        np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        keys[order],
        take("named"),
        take("text"),
    )


def rank_chunked(
    rank: Callable[[np.ndarray], Ranked], users: np.ndarray, chunk: int = CHUNK
) -> Ranked:
    """`rank` over sorted `users` by chunks of `chunk`, concatenated."""
    return concat([rank(users[lo : lo + chunk]) for lo in range(0, max(len(users), 1), chunk)])


_BUILDS: weakref.WeakSet[RankBuild] = weakref.WeakSet()


class RankBuild:
    """Ranks `users` (every customer of a serving state) in chunks of `chunk`, once.

    `ranked(users)` answers a request at any time: the full ranking when built; else, when
    those of `users` not ranked yet are fewer than the customers left, a ranking of just them
    (the build paused meanwhile) joined to the chunks done; otherwise it waits for (or runs)
    the rest of the build. `start()` runs the build in a background thread,
    `stop()` stops it after its current chunk; a later `start()` or `build()` resumes it.
    """

    def __init__(
        self, rank: Callable[[np.ndarray], Ranked], users: np.ndarray, chunk: int = CHUNK
    ) -> None:
        self._rank = rank
        self.users = np.unique(np.asarray(users, dtype=np.int64))
        self._chunk = chunk
        self._cond = threading.Condition()
        self._parts: list[Ranked] = []  # chunks done, in user order (private until complete)
        self._next = 0  # position in `users` of the next chunk
        self._full: Ranked | None = None
        self._building = False  # a builder (thread or caller) is running the chunks
        self._paused = 0  # requests ranking their own customers right now
        self._stop = False
        self._thread: threading.Thread | None = None
        self._subsets: list[tuple[np.ndarray, Ranked]] = []  # (covered [n_users] bool, ranked)

    @property
    def full(self) -> Ranked | None:
        """Every customer's ranking, once built (None before)."""
        return self._full

    @property
    def remaining(self) -> int:
        """Customers not ranked yet by the build."""
        with self._cond:
            return 0 if self._full is not None else len(self.users) - self._next

    def ranked(self, users: np.ndarray | None, background: bool = False) -> Ranked:
        """A `Ranked` holding at least `users` (None: every customer).

        When those of `users` the build has not ranked yet are fewer than the customers it has
        left: they are ranked alone, the build paused meanwhile, and joined to the chunks done
        (kept for the next lookups of the same customers). Otherwise every customer (waits for
        the build, or runs it here). `background`: start the build in a thread if not running.
        """
        full = self._full
        if full is not None:
            return full
        if users is not None:
            wanted = np.unique(np.asarray(users, dtype=np.int64))
            with self._cond:
                if self._full is not None:
                    return self._full
                for covered, part in self._subsets:
                    if covered[wanted].all():
                        return part
                done = list(self._parts)  # chunks ranked so far (immutable once appended)
                todo = np.setdiff1d(wanted, self.users[: self._next], assume_unique=True)
                alone = len(todo) < len(self.users) - self._next
                if alone:
                    self._paused += 1
            if alone:
                if background:
                    self.start()
                try:
                    new = (
                        [rank_chunked(self._rank, todo, self._chunk)]
                        if len(todo) or not done
                        else []
                    )
                    part = gather(done + new, wanted) if done else new[0]
                finally:
                    with self._cond:
                        self._paused -= 1
                        self._cond.notify_all()
                self._keep(wanted, part)
                return part
        if background:
            self.start()
        return self.build()

    def _keep(self, users: np.ndarray, part: Ranked) -> None:
        covered = np.zeros(len(part.ptr) - 1, bool)
        covered[users] = True
        with self._cond:
            if self._full is None:
                self._subsets = [(covered, part), *self._subsets][:KEEP_SUBSETS]

    def start(self) -> bool:
        """Rank the rest in a daemon thread unless built or a builder runs (True: started)."""
        with self._cond:
            if self._full is not None or self._building:
                self._stop = False  # a stop asked before the running builder saw it is void
                return False
            self._building, self._stop = True, False
            self._thread = threading.Thread(
                target=self._run_logged, daemon=True, name="recsys-rank-all"
            )
            _BUILDS.add(self)
        self._thread.start()
        return True

    def stop(self, wait_s: float = 0.0) -> None:
        """Stop the builder after its current chunk (resumable); wait up to `wait_s` for it."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()
            thread = self._thread
        if wait_s > 0 and thread is not None and thread is not threading.current_thread():
            thread.join(wait_s)

    def build(self) -> Ranked:
        """Every customer's ranking: runs the rest here, or waits for the running builder (a
        build that finishes no chunk for `STALL_S` raises `RecsysError`)."""
        seen, since = -1, time.monotonic()
        while True:
            with self._cond:
                if self._full is not None:
                    return self._full
                if not self._building:
                    self._building, self._stop = True, False
                    drive = True
                else:
                    drive = False
                    if self._next != seen:
                        seen, since = self._next, time.monotonic()
                    elif time.monotonic() - since > STALL_S:
                        raise RecsysError(
                            f"ranking every customer made no progress for {STALL_S:.0f} s"
                        )
                    self._cond.wait(1.0)
            if drive:
                self._run()

    def _run_logged(self) -> None:
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 - requests rank their own customers meanwhile
            log.warning("recsys: ranking every customer failed: %s", exc)

    def _run(self) -> None:
        """The builder: chunks until everyone is ranked, a stop or an error (releases the
        builder role; the next `build()` resumes at the next chunk)."""
        try:
            while True:
                with self._cond:
                    while self._paused and not self._stop:
                        self._cond.wait(1.0)
                    if self._stop or self._full is not None:
                        return
                    lo = self._next
                users = self.users[lo : lo + self._chunk]
                part = self._rank(users)  # outside the lock: lookups go on meanwhile
                with self._cond:
                    self._parts.append(part)
                    self._next = lo + len(users)
                    if self._next >= len(self.users):
                        self._full = concat(self._parts)
                        self._parts, self._subsets = [], []
                        return
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._building = False
                self._cond.notify_all()

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a state sent to a worker): the finished ranking only, no locks or thread."""
        return {"_rank": self._rank, "users": self.users, "_chunk": self._chunk, "full": self._full}

    def __setstate__(self, saved: dict[str, Any]) -> None:
        self.__init__(saved["_rank"], saved["users"], saved["_chunk"])  # type: ignore[misc]
        self._full = saved["full"]


@atexit.register
def _stop_builds() -> None:
    """At exit, stop background builds between two chunks (a process that exits while a daemon
    thread is inside LightGBM or BLAS can abort); waits at most a few seconds each."""
    for build in list(_BUILDS):
        build.stop(wait_s=5.0)
