"""Data contracts of the recommender's service API (`recsys.service`): polars schemas.

docs/CONTRACTS.md lists the same columns; `tests/test_contracts.py` keeps the two in step.
"""

from __future__ import annotations

import polars as pl

#: `recommend_for_customer` and `complete_basket`: a ranked list with reasons.
REC_SCHEMA: dict[str, pl.DataType] = {
    "rank": pl.Int32(),
    "product_id": pl.String(),
    "description": pl.String(),
    "category": pl.String(),
    "unit_price": pl.Float64(),
    "score": pl.Float64(),
    "reason": pl.String(),
    "model": pl.String(),
}

#: `similar_products`: as REC_SCHEMA without the reason.
SIMILAR_SCHEMA: dict[str, pl.DataType] = {k: t for k, t in REC_SCHEMA.items() if k != "reason"}

#: `bulk_recommendations` and the `recommendations` table.
BULK_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "rank": pl.Int32(),
    "product_id": pl.String(),
    "description": pl.String(),
    "score": pl.Float64(),
    "reason": pl.String(),
    "model": pl.String(),
}

#: `customer_history`: one customer's purchase lines, newest first.
CUSTOMER_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "sold_at": pl.Datetime("us"),
    "order_id": pl.String(),
    "product_id": pl.String(),
    "description": pl.String(),
    "category": pl.String(),
    "quantity": pl.Float64(),
    "revenue": pl.Float64(),
}
