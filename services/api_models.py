"""Typed request and response bodies of the HTTP API (pydantic), one error shape for all errors."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from warehouse.roles import Role


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Request(BaseModel):
    """Request bodies: unknown fields and loosely typed values (0 for false, "5" for 5) refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorDetail(_Model):
    """What went wrong: a stable machine code and a one-line human message."""

    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["product_id: 'X' is not in the catalogue"])


class ErrorResponse(_Model):
    """The body of every error response (4xx and 5xx)."""

    error: ErrorDetail


class Health(_Model):
    """Service status: warehouse generation, data dates, model version (no key needed)."""

    status: Literal["ok"]
    generation: str = Field(description="warehouse file generation (inode-mtime_ns)")
    data_from: dt.date | None = Field(description="first sale date in the warehouse")
    data_to: dt.date | None = Field(description="last sale date in the warehouse")
    model_version: str | None = Field(description="recommendation model version (None: none)")
    model_trained_at: str | None
    forecast_run_id: str | None = Field(description="latest forecast run (None: none)")
    has_reorder_plan: bool


class Recommendation(_Model):
    """One recommended product, best first."""

    rank: int = Field(ge=1)
    product_id: str
    description: str | None
    category: str | None
    unit_price: float | None = Field(description="GBP")
    score: float
    reason: str


class CustomerRecommendations(_Model):
    """Top-k products for one customer (a popularity list when the model does not know them)."""

    customer_id: str
    popularity_fallback: bool = Field(
        description="true: the customer has no purchase history in the model; popular products"
    )
    model: str
    generation: str
    items: list[Recommendation]


class BasketRequest(_Request):
    """A basket of product ids (an anonymous shopper) and how many suggestions to return."""

    product_ids: list[str] = Field(min_length=1, max_length=200, examples=[["P00001", "P00002"]])
    k: int = Field(10, ge=1, le=100)
    in_stock_only: bool = False
    category: list[str] = Field(default_factory=list, max_length=50)
    max_per_category: int | None = Field(None, ge=1, le=100)


class BasketRecommendations(_Model):
    """Products that go with a basket, best first."""

    model: str
    generation: str
    items: list[Recommendation]


class SimilarProduct(_Model):
    """A product close to the asked one in the two-tower embedding."""

    rank: int = Field(ge=1)
    product_id: str
    description: str | None
    category: str | None
    unit_price: float | None
    score: float


class SimilarProducts(_Model):
    """Nearest products to `product_id`, closest first."""

    product_id: str
    model: str
    generation: str
    items: list[SimilarProduct]


class ForecastPoint(_Model):
    """Forecast demand for one date (units/day) with 80% and 95% intervals."""

    date: dt.date
    yhat: float
    lo_80: float
    hi_80: float
    lo_95: float
    hi_95: float
    model: str


class Forecast(_Model):
    """A forecast at one level: an item (one product, one store or all), a category, the total."""

    level: Literal["item", "category", "total"]
    store_id: str | None
    product_id: str | None
    category: str | None
    generation: str
    points: list[ForecastPoint]


class ReorderLine(_Model):
    """One store x product line of the reorder plan."""

    store_id: str
    product_id: str
    description: str | None = None
    category: str | None = None
    on_hand: float | None = None
    on_order: float | None = None
    reorder_point: float | None = None
    safety_stock: float | None = None
    order_up_to: float | None = None
    suggested_order_qty: float | None = None
    days_of_cover: float | None = None
    stockout_risk: float | None = None
    unit_cost: float | None = None
    order_value: float | None = None
    service_target: float | None = None
    policy: str | None = None
    reason: str | None = None


class ReorderPlanPage(_Model):
    """One page of the reorder plan, most urgent first; `next_offset` is None on the last."""

    generation: str
    total: int = Field(ge=0)
    limit: int
    offset: int
    next_offset: int | None
    items: list[ReorderLine]


class SqlRequest(_Request):
    """One read-only query for the SQL sandbox, with the app's row cap and time limit."""

    query: str = Field(min_length=1, max_length=100_000)
    max_rows: int = Field(1000, ge=1, le=100_000)
    timeout_s: float = Field(30.0, ge=1, le=300)


class SqlColumn(_Model):
    """A result column: name and DuckDB/Polars type name."""

    name: str
    type: str


class SqlResult(_Model):
    """Rows of a sandboxed query (JSON values; dates as ISO text), capped at `max_rows`."""

    columns: list[SqlColumn]
    rows: list[list[Any]]
    row_count: int
    truncated: bool
    elapsed_s: float


class KeyInfo(_Model):
    """Who the calling key is (name and role)."""

    name: str
    role: Role
