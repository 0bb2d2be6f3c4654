"""The segment builder of the Recommendations page: RFM, spend, country, category affinity;
segments are saved per user and exported (ids pseudonymised when asked)."""

from __future__ import annotations

from typing import cast

import polars as pl
import streamlit as st

from pages import _format as fmt
from pages import _services as svc
from pages import _shared as shared
from pages._export import export_buttons
from services.segments import SegmentRule
from warehouse.db import WarehouseError
from warehouse.privacy import pseudonymise


def _pseudonymised(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pseudonymise(frame["customer_id"], shared.privacy_key()))


def segment_builder(user: str) -> None:
    """Build a segment from the customer profile, save it, export its customers."""
    profile = svc.customer_profile()
    saved = svc.saved_segments(user)
    c1, c2, c3, c4 = st.columns(4)
    r = c1.slider("Recency score ≥", 1, 5, 1, key="seg_r", help="5 = bought most recently")
    f = c1.slider("Frequency score ≥", 1, 5, 1, key="seg_f", help="5 = most orders")
    m = c1.slider("Monetary score ≥", 1, 5, 1, key="seg_m", help="5 = highest spend")
    top = float(cast(float, profile["spend"].max()) or 0.0) if profile.height else 0.0
    spend = c2.slider(
        "Lifetime spend (£)",
        0.0,
        max(top, 1.0),
        (0.0, max(top, 1.0)),
        key="seg_spend",
        format="£%,.0f",
    )
    countries = c3.multiselect(
        "Country / region",
        sorted(profile["country"].drop_nulls().unique().to_list()),
        key="seg_country",
    )
    segments = c3.multiselect(
        "Existing segment",
        sorted(profile["segment"].drop_nulls().unique().to_list()),
        key="seg_segment",
    )
    cats = c4.multiselect(
        "Top category",
        sorted(profile["top_category"].drop_nulls().unique().to_list()),
        key="seg_cats",
    )
    affinity = (  # a percentage on screen, a share in the rule
        c4.slider("Top category share of spend ≥", 0, 100, 0, 5, key="seg_affinity", format="%d%%")
        / 100
    )
    rule = SegmentRule(
        (r, f, m),
        spend[0] or None,
        None if spend[1] >= top else spend[1],
        tuple(countries),
        tuple(cats),
        affinity,
        tuple(segments),
    )
    members = rule.apply(profile)
    st.metric(
        "Customers in the segment",
        f"{members.height:,}",
        f"{members.height / max(profile.height, 1):.1%} of {profile.height:,}",
        delta_color="off",
    )
    pseudo = st.checkbox("Pseudonymise customer ids (keyed hash)", key="seg_pseudo")
    preview = members.head(200)
    fmt.table(
        _pseudonymised(preview) if pseudo else preview,
        key="seg_preview",
        height=300,
        first=("customer_id", "rfm", "spend", "orders", "recency_days", "country", "top_category"),
    )
    s1, s2 = st.columns([2, 1], vertical_alignment="bottom")
    name = s1.text_input("Segment name", key="seg_name", placeholder="e.g. lapsed big spenders")
    if s2.button("Save segment", key="seg_save", icon=":material/save:", disabled=not name):
        try:
            svc.save_segment(user, name.strip(), rule)
            saved = svc.saved_segments(user)
            st.success(f"Saved “{name.strip()}”: {members.height:,} customers today.")
        except WarehouseError as exc:
            st.error(str(exc))
    if saved:
        st.caption("Saved: " + ", ".join(sorted(saved)) + " (use them in the Bulk list tab).")
    export_buttons(
        members, "segment_customers", key="seg_export", prepare=_pseudonymised if pseudo else None
    )
