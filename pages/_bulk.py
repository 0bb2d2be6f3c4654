"""The bulk-list tab of the Recommendations page: customers from a segment, a saved segment or
an uploaded list, top-K for each under the business rules, a preview (pseudonymised when asked)
and the export."""

from __future__ import annotations

import polars as pl
import streamlit as st

from pages import _format as fmt
from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared
from pages._export import export_buttons
from recsys.errors import NoModelError
from recsys.service import BusinessRules
from services.merch import customer_ids_from_upload
from warehouse.privacy import pseudonymise


def hide_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """The list with keyed-hash customer ids (as the export writes them)."""
    return frame.with_columns(pseudonymise(frame["customer_id"], shared.privacy_key()))


def _customers(user_name: str) -> tuple[str | None, tuple[str, ...] | None]:
    """(segment, None) or (None, customer ids) as the user picks them; (None, None): not yet."""
    saved = svc.saved_segments(user_name)
    sources = (
        ["Segment", "Saved segment", "Uploaded list"] if saved else ["Segment", "Uploaded list"]
    )
    source = st.radio("Customers", sources, horizontal=True, key="rec_bulk_source")
    if source == "Segment":
        segs = dash.segments()
        sizes = dict(zip(segs["segment"], segs["customers"], strict=True))
        segment = st.selectbox(
            "Segment",
            list(sizes),
            key="rec_segment",
            format_func=lambda s: f"{s} ({sizes[s]:,} customers)",
        )
        return segment, None
    if source == "Saved segment":
        name = st.selectbox("Saved segment", sorted(saved), key="rec_saved_segment")
        ids = tuple(saved[name].apply(svc.customer_profile())["customer_id"].to_list())
        st.caption(f"{len(ids):,} customers in “{name}” today.")
        return None, ids
    upload = st.file_uploader(
        "CSV with a customer_id column (or one id per line)",
        type=["csv", "txt"],
        key="rec_upload",
    )
    if upload is None:
        return None, None
    ids = shared.guarded(lambda: customer_ids_from_upload(upload.getvalue(), upload.name))
    st.caption(f"{len(ids):,} customer ids read from {upload.name}.")
    return None, ids


def bulk_list(user_name: str, k: int, rules: BusinessRules, version: str) -> None:
    """Pick the customers, build the list on request, preview it and export it."""
    segment, ids = _customers(user_name)
    pseudo = st.checkbox("Pseudonymise customer ids (keyed hash)", key="rec_pseudo")
    if not ((segment or ids) and st.toggle("Build the list", key="rec_bulk_go")):
        return
    bulk = shared.guarded(
        lambda: svc.bulk_recommendations(ids, segment, k, rules, version), NoModelError
    )
    preview = bulk.head(200)
    fmt.table(
        hide_ids(preview) if pseudo else preview,
        key="rec_bulk_table",
        hide=("model",),
        first=("customer_id", "rank", "product_id", "description", "category", "unit_price"),
    )
    st.caption(f"Preview of the first {preview.height:,} of {bulk.height:,} rows.")
    export_buttons(
        bulk, "bulk_recommendations", key="rec_bulk_export", prepare=hide_ids if pseudo else None
    )
