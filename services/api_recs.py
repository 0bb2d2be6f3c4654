"""Customer lists for the HTTP API from the warehouse's exported `recommendations` table.

The pipeline's `recsys export` step writes every customer's top-20 under the default business
rules into the warehouse (`recsys.refresh.export_recommendations`, the same ranking path as a
live call). While that table is *fresh* (its stamp's sales generation and model version are
the ones served now, `services.freshness.decide`) and holds default-rules lists (a spot check:
no row of 200 customers is a product they bought; the check cannot tell a category or price
filter, so only the pipeline, or `recsys export --exclude-purchased` without filters, should
write the table), a call with the default rules and k <= 20 is the first k rows of the table:
a dictionary lookup instead of the ranker's candidates, LightGBM feature contributions and data
frames (tens of ms of CPU a call, and minutes for the first live call of a new state). The
lists are loaded into memory once per warehouse generation (the file's inode and mtime), in a
background thread; while a new generation loads, calls keep the previous generation's lists,
labelled with that generation (one consistent generation per answer). A stale, missing or
unreadable table, or a customer not in it: None, and the caller computes the list live.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recsys.serving import BusinessRules
from services.api_models import CustomerRecommendations, Recommendation
from services.freshness import decide, snapshot
from warehouse.db import generation, reading, run_named, table_exists

log = logging.getLogger(__name__)
STEP = "recsys export"
#: Customers whose exported rows are checked for bought products (the default rules' mark).
SPOT_CHECK_CUSTOMERS = 200


@dataclass(frozen=True)
class TopLists:
    """The exported lists of one warehouse generation.

    Attributes:
        generation: `<inode>-<mtime_ns>` of the file they were read from.
        rows: column name -> values, customers' rows contiguous and best first.
        spans: customer_id -> (first row, row count).
        depth: the exported k (the longest list): any k up to it is a prefix of each list
            (a shorter list is all its customer may get).
        usable: False when the table is missing or stale (callers go live).
    """

    generation: str
    rows: dict[str, list[Any]]
    spans: dict[str, tuple[int, int]]
    depth: int
    usable: bool

    def items(self, customer_id: str, k: int) -> list[dict[str, Any]] | None:
        """The customer's first `k` rows as dicts (None: not a customer of the lists)."""
        span = self.spans.get(customer_id)
        if span is None:
            return None
        start, count = span
        stop = start + min(k, count)
        columns = self.rows
        return [{name: values[i] for name, values in columns.items()} for i in range(start, stop)]


_CURRENT: dict[Path, TopLists] = {}
_LOADING: dict[Path, threading.Event] = {}
_LOCK = threading.Lock()
COLUMNS = ("rank", "product_id", "description", "category", "unit_price", "score", "reason")
#: The rules the pipeline exports lists with; any other rules are answered live.
DEFAULT_RULES = BusinessRules()


def _gen_text(db: Path) -> str:
    ino, mtime = generation(db)
    return f"{ino}-{mtime}"


def load_lists(db: Path) -> TopLists:
    """Read the exported lists of the warehouse as it is now (raises on a swap mid-read)."""
    gen = _gen_text(db)
    decision = decide(STEP, _has_table(db), snapshot(db))
    if decision.run:  # missing or stale: the live path answers
        return TopLists(gen, {}, {}, 0, usable=False)
    with reading(db) as con:
        frame = run_named(con, "recsys/top_lists")
        bought = run_named(con, "recsys/exported_bought", {"n": SPOT_CHECK_CUSTOMERS})
    if _gen_text(db) != gen:
        raise RuntimeError(f"{db}: swapped while the exported lists were read")
    customers = frame["customer_id"].to_list()
    spans: dict[str, tuple[int, int]] = {}
    for i, cid in enumerate(customers):
        start, count = spans.get(cid, (i, 0))
        spans[cid] = (start, count + 1)
    rows = {name: frame[name].to_list() for name in (*COLUMNS, "model")}
    depth = max((count for _, count in spans.values()), default=0)
    default_rules = int(bought["bought"][0]) == 0
    if not default_rules:
        log.warning("api: %s: the exported lists hold bought products (not default rules)", db)
    return TopLists(gen, rows, spans, depth, usable=bool(spans) and default_rules)


def _has_table(db: Path) -> bool:
    with reading(db) as con:
        return table_exists(con, "recommendations")


def current_lists(db: Path, gen: str, wait_s: float = 0.0) -> TopLists | None:
    """The lists to answer from now: generation `gen`'s when loaded, else the previous
    generation's while `gen`'s load in the background. Before any load finished: None, or,
    with `wait_s`, the first load's result when it ends within `wait_s` seconds (a first live
    list costs far more than the load)."""
    with _LOCK:
        lists = _CURRENT.get(db)
        if lists is not None and lists.generation == gen:
            return lists
        done = _LOADING.get(db)
        start = done is None
        if done is None:
            done = _LOADING[db] = threading.Event()
    if start:
        threading.Thread(target=_load, args=(db, done), daemon=True, name="api-top-lists").start()
    if lists is None and wait_s > 0 and done.wait(wait_s):
        with _LOCK:
            lists = _CURRENT.get(db)
    return lists


def _load(db: Path, done: threading.Event) -> None:
    try:
        lists = load_lists(db)
        with _LOCK:
            _CURRENT[db] = lists
    except Exception as exc:  # noqa: BLE001 - the previous lists (or the live path) answer
        log.warning("api: loading the exported lists of %s failed: %s", db, exc)
    finally:
        with _LOCK:
            _LOADING.pop(db, None)
        done.set()


def load_now(db: Path) -> TopLists:
    """Load the current generation's lists in this thread and serve them (start-up, tests)."""
    lists = load_lists(db)
    with _LOCK:
        _CURRENT[db] = lists
    return lists


def exported_recommendations(
    db: Path,
    customer_id: str,
    *,
    k: int = 10,
    rules: BusinessRules = DEFAULT_RULES,
    wait_s: float = 0.0,
) -> CustomerRecommendations | None:
    """The customer's list from the exported lists when they can answer: default rules,
    k <= the exported k, a fresh export with this customer in it. Else None (the caller goes
    live, `services.api_core.customer_recommendations`). No I/O beyond one `stat`, and no
    wait unless `wait_s` (see `current_lists`)."""
    if rules != DEFAULT_RULES:
        return None
    lists = current_lists(db, _gen_text(db), wait_s)
    if lists is None or not lists.usable or k > lists.depth:
        return None
    items = lists.items(customer_id, k)
    if items is None:
        return None
    return CustomerRecommendations.model_construct(
        customer_id=customer_id,
        popularity_fallback=False,
        model=str(lists.rows["model"][lists.spans[customer_id][0]]),
        generation=lists.generation,
        items=[Recommendation.model_construct(**item) for item in items],
    )
