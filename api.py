"""Shelfwise HTTP API (FastAPI): routing only; the work is in `services.api_core`.

Run with `make api` (127.0.0.1:8600) or `.venv/bin/uvicorn api:app` with `SHELFWISE_DB` set.
Keys: `python -m warehouse keys add NAME --role viewer|merchandiser|analyst|admin`; send
`Authorization: Bearer TOKEN`. OpenAPI at /openapi.json, docs at /docs; see docs/API.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services import api_core as core
from services.api_deps import ERROR_RESPONSES, db_path, install_error_handlers, require
from services.api_models import (
    BasketRecommendations,
    BasketRequest,
    CustomerRecommendations,
    Forecast,
    Health,
    KeyInfo,
    ReorderPlanPage,
    SimilarProducts,
    SqlRequest,
    SqlResult,
)
from services.api_recs import exported_recommendations
from warehouse.keys import ApiKey

app = FastAPI(
    title="Shelfwise API",
    version="1.0.0",
    description="Recommendations, forecasts and order plans over the Shelfwise warehouse. "
    "Every route but /v1/health needs `Authorization: Bearer TOKEN`.",
    responses=ERROR_RESPONSES,
)
install_error_handlers(app)
core.configure_serving()

CustomerId = Annotated[str, Path(min_length=1, max_length=64, examples=["C000001"])]
ProductId = Annotated[str, Path(min_length=1, max_length=64, examples=["P00001"])]
OptId = Annotated[str | None, Query(min_length=1, max_length=64)]
Viewer = Annotated[ApiKey, Depends(require("viewer"))]
CustomerData = Annotated[ApiKey, Depends(require("merchandiser", audit=True))]
Analyst = Annotated[ApiKey, Depends(require("analyst", audit=True))]


@app.get("/v1/health", response_model=Health, tags=["service"])
def health() -> Health:
    """Status, warehouse generation, data dates and model version (no key needed)."""
    return core.health(db_path())


@app.get("/v1/me", response_model=KeyInfo, tags=["service"])
def me(key: Viewer) -> KeyInfo:
    """The calling key's name and role."""
    return KeyInfo(name=key.name, role=key.role)  # type: ignore[arg-type]


@app.get(
    "/v1/customers/{customer_id}/recommendations",
    response_model=CustomerRecommendations,
    tags=["recommendations"],
)
async def customer_recommendations(
    _: CustomerData,
    response: Response,
    customer_id: CustomerId,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    exclude_purchased: bool = True,
    category: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006 - FastAPI copies
    max_per_category: Annotated[int | None, Query(ge=1, le=100)] = None,
    in_stock_only: bool = False,
) -> CustomerRecommendations:
    """Top-k products for a customer (merchandiser+; audited); unknown: popular, flagged.

    Header `X-Shelfwise-Source`: `exported` (the pipeline's exported lists) or `live`.
    """
    rules = core.list_rules(exclude_purchased, in_stock_only, category, max_per_category)
    # the exported list is a lookup: answered here; a live list is CPU work: in a thread
    exported = exported_recommendations(db_path(), customer_id, k=k, rules=rules)
    response.headers["X-Shelfwise-Source"] = "exported" if exported else "live"
    if exported is not None:
        return exported
    return await run_in_threadpool(
        core.customer_recommendations, db_path(), customer_id, k=k, rules=rules
    )


@app.post(
    "/v1/recommendations/basket", response_model=BasketRecommendations, tags=["recommendations"]
)
def basket(_: Viewer, body: BasketRequest) -> BasketRecommendations:
    """Products that go with a basket of product ids (an anonymous shopper)."""
    return core.basket_recommendations(
        db_path(),
        body.product_ids,
        k=body.k,
        in_stock_only=body.in_stock_only,
        category=body.category,
        max_per_category=body.max_per_category,
    )


@app.get(
    "/v1/products/{product_id}/similar", response_model=SimilarProducts, tags=["recommendations"]
)
def similar(
    _: Viewer, product_id: ProductId, k: Annotated[int, Query(ge=1, le=100)] = 10
) -> SimilarProducts:
    """Products nearest to one product (two-tower item vectors)."""
    return core.similar(db_path(), product_id, k=k)


@app.get("/v1/forecasts", response_model=Forecast, tags=["forecasts"])
def forecasts(
    _: Viewer,
    store_id: OptId = None,
    product_id: OptId = None,
    category: OptId = None,
    level: Literal["item", "category", "total"] | None = None,
) -> Forecast:
    """Daily forecast with 80%/95% intervals; level defaults from the filters given."""
    chosen = level or ("item" if product_id else "category" if category else "total")
    return core.forecast(
        db_path(), level=chosen, store_id=store_id, product_id=product_id, category=category
    )


@app.get("/v1/reorder-plan", response_model=ReorderPlanPage, tags=["inventory"])
def reorder_plan(
    _: Viewer,
    store_id: OptId = None,
    category: OptId = None,
    only_to_order: bool = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ReorderPlanPage:
    """One page of the reorder plan, most urgent first (limit/offset; `next_offset`)."""
    return core.reorder_plan(
        db_path(),
        store_id=store_id,
        category=category,
        only_to_order=only_to_order,
        limit=limit,
        offset=offset,
    )


@app.get(
    "/v1/purchase-orders.csv",
    response_class=Response,
    tags=["inventory"],
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "the purchase-order lines (one order per supplier x store) as CSV, "
            "the file `python -m forecasting plan --export x.csv` writes",
        }
    },
)
def purchase_orders(_: Viewer, store_id: OptId = None, category: OptId = None) -> Response:
    """Today's purchase-order lines as a CSV file (order number, supplier, store, ...)."""
    gen, body = core.purchase_orders_csv(db_path(), store_id=store_id, category=category)
    return Response(
        body,
        media_type="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="purchase-orders.csv"',
            "X-Shelfwise-Generation": gen,
        },
    )


@app.post("/v1/sql", response_model=SqlResult, tags=["sql"])
def sql(key: Analyst, body: SqlRequest) -> SqlResult:
    """One read-only query through the SQL sandbox (analyst+; audited; row cap, time limit)."""
    return core.run_sql(
        db_path(), body.query, role=key.role, max_rows=body.max_rows, timeout_s=body.timeout_s
    )
