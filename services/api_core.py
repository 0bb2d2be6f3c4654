"""Typed service calls behind the HTTP API: package functions in, pydantic models out.

Every function takes the warehouse path and calls the packages' public read functions
(`recsys.service`, `forecasting.api`, `forecasting.inventory.api`, `warehouse.sandbox`,
`warehouse.readers`); each of those reads one warehouse file (one snapshot), so a refresh that
swaps in a new file mid-request never mixes two generations in one answer. Results that do not
depend on the caller are cached per (warehouse generation, arguments); the recommendation model
is cached by `recsys.service` per (generation, model version).
"""

from __future__ import annotations

import math
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import polars as pl

from forecasting import api as forecasting_api
from forecasting.errors import NoForecastError
from forecasting.inventory import api as inventory_api
from forecasting.inventory import orders
from recsys import service as recsys
from recsys.errors import NoModelError, RecsysError
from recsys.lists import rank_in_background
from recsys.manifest import list_versions
from services import api_recs
from services.api_models import (
    BasketRecommendations,
    CustomerRecommendations,
    Forecast,
    ForecastPoint,
    Health,
    Recommendation,
    ReorderLine,
    ReorderPlanPage,
    SimilarProduct,
    SimilarProducts,
    SqlColumn,
    SqlResult,
)
from services.api_recs import DEFAULT_RULES
from services.dashboard import data_range
from warehouse.db import NotApplicableError, WarehouseError, generation, table_exists
from warehouse.readers import WarehouseReader
from warehouse.sandbox import run_sandboxed

T = TypeVar("T")
#: How long a recommendation call waits for the first load of the exported lists (s).
FIRST_LISTS_WAIT_S = 120.0
SWITCH_INTERVAL_S = 0.001


class NotFound(LookupError):
    """The asked resource (customer, product, forecast series) does not exist; -> 404."""


class BadRequest(ValueError):
    """Parameters that are valid one by one but not together; -> 422."""


class _GenerationCache:
    """A small LRU of results keyed by (warehouse generation, call); thread-safe."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


_CACHE = _GenerationCache()
_READERS: dict[Path, WarehouseReader] = {}
_READERS_LOCK = threading.Lock()


def configure_serving() -> None:
    """Server set-up: after a refresh keep answering from the previous recommendation state
    (one consistent generation) while the new one loads in the background (many callers); a
    1 ms GIL switch interval (Python's default is 5 ms), so a short call answered on the event
    loop does not wait 5 ms at each I/O step behind a thread computing a long one."""
    recsys.serve_stale_while_reloading(True)
    rank_in_background(True)
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def gen_text(db: Path) -> str:
    """The warehouse file's generation as text: `<inode>-<mtime_ns>`."""
    try:
        ino, mtime = generation(db)
    except FileNotFoundError:
        raise WarehouseError(
            f"{db}: no warehouse here; build one with `python -m warehouse demo`"
        ) from None
    return f"{ino}-{mtime}"


def reader(db: Path) -> WarehouseReader:
    """The process-wide generation-aware reader of `db` (per-thread snapshot connections)."""
    with _READERS_LOCK:
        if db not in _READERS:
            _READERS[db] = WarehouseReader(db)
        return _READERS[db]


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _records(frame: pl.DataFrame, columns: Iterable[str]) -> list[dict[str, Any]]:
    present = [c for c in columns if c in frame.columns]
    return [{k: _finite(v) for k, v in row.items()} for row in frame.select(present).to_dicts()]


def health(db: Path) -> Health:
    """Status, generation, sale date range, model version, latest forecast run, plan present."""
    gen = gen_text(db)
    versions = list_versions(db)
    newest = versions[0].name if versions else None
    status = _CACHE.get(("model", db, newest), lambda: recsys.model_status(db))
    version = str(status["version"]) if status and status.get("version") is not None else None

    def load() -> tuple[Any, Any, bool, bool]:
        with reader(db).snapshot() as con:
            span = data_range(con)
            first, last = span.first_day, span.last_day
            return first, last, table_exists(con, "forecasts"), table_exists(con, "reorder_plan")

    first, last, has_forecasts, has_plan = _CACHE.get(("health", db, gen), load)
    run_id = None
    if has_forecasts:
        try:
            run = _CACHE.get(("run", db, gen), lambda: forecasting_api.latest_run(db))
        except NoForecastError:  # an empty forecasts table
            run = {}
        run_id = str(run["run_id"]) if run.get("run_id") is not None else None
    return Health(
        status="ok",
        generation=gen,
        data_from=first,
        data_to=last,
        model_version=version,
        model_trained_at=str(status["trained_at"]) if status else None,
        forecast_run_id=run_id,
        has_reorder_plan=has_plan,
    )


def list_rules(
    exclude_purchased: bool = True,
    in_stock_only: bool = False,
    category: Sequence[str] = (),
    max_per_category: int | None = None,
) -> recsys.BusinessRules:
    """The API's list options as business rules (the defaults = the exported lists' rules)."""
    return recsys.BusinessRules(
        exclude_purchased=exclude_purchased,
        in_stock_only=in_stock_only,
        include_categories=tuple(category),
        max_per_category=max_per_category,
    )


def _recs(frame: pl.DataFrame) -> list[Recommendation]:
    return [Recommendation(**r) for r in _records(frame, Recommendation.model_fields)]


def customer_recommendations(
    db: Path, customer_id: str, *, k: int = 10, rules: recsys.BusinessRules = DEFAULT_RULES
) -> CustomerRecommendations:
    """Top-k for a customer; a customer the model does not know gets the popularity list.

    The exported list when `api_recs.exported_recommendations` has it, else computed live.
    """
    exported = api_recs.exported_recommendations(
        db, customer_id, k=k, rules=rules, wait_s=FIRST_LISTS_WAIT_S
    )
    if exported is not None:
        return exported
    gen = gen_text(db)
    if recsys.is_known_customer(db, customer_id):
        frame = recsys.recommend_for_customer(db, customer_id, k=k, rules=rules)
    elif rules == DEFAULT_RULES:  # the popularity list is the same for every unknown customer
        frame = _CACHE.get(
            ("popular", db, gen, k), lambda: recsys.popular_products(db, k=k, rules=rules)
        )
    else:
        frame = recsys.popular_products(db, k=k, rules=rules, customer_id=customer_id)
    model = str(frame["model"][0]) if frame.height else recsys.POPULAR_MODEL
    return CustomerRecommendations(
        customer_id=customer_id,
        popularity_fallback=model == recsys.POPULAR_MODEL,
        model=model,
        generation=gen,
        items=_recs(frame),
    )


def basket_recommendations(
    db: Path,
    product_ids: Sequence[str],
    *,
    k: int = 10,
    in_stock_only: bool = False,
    category: Sequence[str] = (),
    max_per_category: int | None = None,
) -> BasketRecommendations:
    """Products that go with a basket (basket items excluded)."""
    gen = gen_text(db)
    rules = list_rules(True, in_stock_only, category, max_per_category)
    try:
        frame = recsys.complete_basket(db, list(product_ids), k=k, rules=rules)
    except RecsysError as exc:
        if isinstance(exc, NoModelError | NotApplicableError):  # 503, not 404
            raise
        raise NotFound(str(exc)) from exc
    model = str(frame["model"][0]) if frame.height else "none"
    return BasketRecommendations(model=model, generation=gen, items=_recs(frame))


def similar(db: Path, product_id: str, *, k: int = 10) -> SimilarProducts:
    """Nearest products to one product by two-tower item vectors."""
    gen = gen_text(db)
    try:
        frame = recsys.similar_products(db, product_id, k=k)
    except RecsysError as exc:
        if isinstance(exc, NoModelError | NotApplicableError):  # 503, not 404
            raise
        raise NotFound(str(exc)) from exc
    model = str(frame["model"][0]) if frame.height else "none"
    items = [SimilarProduct(**r) for r in _records(frame, SimilarProduct.model_fields)]
    return SimilarProducts(product_id=product_id, model=model, generation=gen, items=items)


def forecast(
    db: Path,
    *,
    level: Literal["item", "category", "total"],
    store_id: str | None = None,
    product_id: str | None = None,
    category: str | None = None,
) -> Forecast:
    """Daily forecast with intervals for an item, a category or the total (bottom-up sums)."""
    if level == "item" and not product_id:
        raise BadRequest("product_id: required when level=item")
    if level == "category" and not category:
        raise BadRequest("category: required when level=category")
    if level != "item" and product_id:
        raise BadRequest(f"product_id: only with level=item, not level={level}")
    if level != "category" and category:
        raise BadRequest(f"category: only with level=category, not level={level}")
    gen = gen_text(db)
    key = ("forecast", db, gen, store_id, product_id, category)
    frame = _CACHE.get(
        key,
        lambda: forecasting_api.load_forecast(
            db, store_id=store_id, product_id=product_id, category=category
        ),
    )
    if frame.is_empty():
        asked = ", ".join(
            f"{n}={v!r}"
            for n, v in (("store_id", store_id), ("product_id", product_id), ("category", category))
            if v
        )
        raise NotFound(f"no forecast matches {asked or 'this warehouse'}")
    frame = frame.rename(
        {"yhat_lo_80": "lo_80", "yhat_hi_80": "hi_80", "yhat_lo_95": "lo_95", "yhat_hi_95": "hi_95"}
    )
    points = [ForecastPoint(**r) for r in _records(frame, ForecastPoint.model_fields)]
    return Forecast(
        level=level,
        store_id=store_id,
        product_id=product_id,
        category=category,
        generation=gen,
        points=points,
    )


def _plan(
    db: Path, gen: str, store_id: str | None, category: str | None, only_to_order: bool
) -> pl.DataFrame:
    def load() -> pl.DataFrame:
        if only_to_order:
            return inventory_api.what_to_order(db, store_id=store_id, category=category)
        frame = inventory_api.load_reorder_plan(db)
        if store_id is not None:
            frame = frame.filter(pl.col("store_id") == store_id)
        if category is not None and "category" in frame.columns:
            frame = frame.filter(pl.col("category") == category)
        return frame

    return _CACHE.get(("plan", db, gen, store_id, category, only_to_order), load)


def reorder_plan(
    db: Path,
    *,
    store_id: str | None = None,
    category: str | None = None,
    only_to_order: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> ReorderPlanPage:
    """One page of the reorder plan (most urgent first) from one warehouse generation."""
    gen = gen_text(db)
    frame = _plan(db, gen, store_id, category, only_to_order)
    page = frame.slice(offset, limit)
    items = [ReorderLine(**r) for r in _records(page, ReorderLine.model_fields)]
    nxt = offset + limit if offset + limit < frame.height else None
    return ReorderPlanPage(
        generation=gen, total=frame.height, limit=limit, offset=offset, next_offset=nxt, items=items
    )


def purchase_orders_csv(
    db: Path, *, store_id: str | None = None, category: str | None = None
) -> tuple[str, bytes]:
    """(generation, CSV bytes) of the purchase orders' lines: byte for byte what
    `python -m forecasting plan --export x.csv` writes (`forecasting.inventory.orders`)."""
    gen = gen_text(db)

    def load() -> bytes:
        found = orders.purchase_orders(db, store_id=store_id, category=category)
        return orders.orders_csv(found)

    return gen, _CACHE.get(("orders-csv", db, gen, store_id, category), load)


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


def run_sql(
    db: Path, query: str, *, role: str, max_rows: int = 1000, timeout_s: float = 30.0
) -> SqlResult:
    """One query through the SQL sandbox (`warehouse.sandbox.run_sandboxed`) as `role`.

    Raises `warehouse.sandbox.SandboxRefusal` with the sandbox's one-line reason.
    """
    result = run_sandboxed(db, query, max_rows=max_rows, timeout_s=timeout_s, role=role)
    frame = result.frame
    columns = [SqlColumn(name=n, type=str(t)) for n, t in frame.schema.items()]
    rows = [[_json_value(v) for v in row] for row in frame.iter_rows()]
    return SqlResult(
        columns=columns,
        rows=rows,
        row_count=len(rows),
        truncated=result.truncated,
        elapsed_s=round(result.elapsed_s, 6),
    )
