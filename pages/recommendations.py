"""Recommendations (merchandisers): a customer's history and top-K with reasons under business
rules, similar products, complete-the-basket, and bulk lists for a segment or uploaded ids."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared
from recsys.errors import NoModelError
from recsys.service import BusinessRules
from warehouse.privacy import pseudonymise

shared.require("recommendations")
st.title("Recommendations")
status = shared.guarded(svc.model_status, NoModelError)
if status is None:
    shared.empty_state("No model yet: run `python -m recsys train`.")
version = status.get("version")
st.caption(f"Model {status.get('model', '')} v{version} trained {status.get('trained_at', '?')}.")
categories = list(dash.filter_options()[1])

with st.expander("Business rules", expanded=False, icon=":material/rule:"):
    c1, c2, c3 = st.columns(3)
    exclude_purchased = c1.checkbox("Exclude already purchased", True, key="rec_excl")
    in_stock_only = c1.checkbox("In stock only", False, key="rec_stock")
    include = c2.multiselect("Only these categories", categories, key="rec_incl")
    exclude = c2.multiselect("Never these categories", categories, key="rec_exclcat")
    price = c3.slider("Price range (GBP)", 0.0, 200.0, (0.0, 200.0), step=1.0, key="rec_price")
    per_cat = c3.number_input("Max per category (0 = no limit)", 0, 50, 0, key="rec_percat")
rules = BusinessRules(
    exclude_purchased=exclude_purchased, in_stock_only=in_stock_only,
    include_categories=tuple(include), exclude_categories=tuple(exclude),
    min_price=price[0] or None, max_price=None if price[1] >= 200.0 else price[1],
    max_per_category=int(per_cat) or None)
k = st.slider("How many (K)", 5, 50, 20, key="rec_k")

customer_tab, similar_tab, basket_tab, bulk_tab = st.tabs(
    ["Customer", "Similar products", "Complete the basket", "Bulk list"])


def rec_chart(frame: pl.DataFrame, key: str) -> None:
    """Scores of a ranked list as a bar chart, coloured by category."""
    if frame.is_empty():
        st.info("No product passes these rules.")
        return
    fig = px.bar(frame.to_pandas(), x="score", y="description", color="category",
                 orientation="h", hover_data=["product_id", "unit_price"])
    fig.update_layout(height=max(260, 22 * frame.height), margin={"t": 10, "b": 10},
                      yaxis={"autorange": "reversed"})
    st.plotly_chart(fig, key=key)


with customer_tab:
    prefix = st.text_input("Search customer id", key="rec_prefix", placeholder="e.g. C0001")
    found = dash.customer_search(prefix or "", 50)
    if found.is_empty():
        st.info("No customer id starts with that.")
    else:
        customer_id = st.selectbox(
            "Customer", found["customer_id"].to_list(), key="rec_customer",
            format_func=lambda c: f"{c} · {found.filter(customer_id=c)['segment'][0]} · "
                                  f"{found.filter(customer_id=c)['orders'][0]} orders")
        recs = shared.guarded(lambda: svc.recommend(customer_id, k, rules, version),
                              NoModelError)
        left, right = st.columns([3, 2])
        with left:
            st.subheader(f"Top {k} for {customer_id}")
            rec_chart(recs, "rec_customer_chart")
            st.dataframe(recs, hide_index=True)
            shared.export_buttons(recs, f"recommendations_{customer_id}", key="rec_cust_export")
        with right:
            st.subheader("History")
            history = svc.customer_history(customer_id)
            st.dataframe(history, hide_index=True, height=420)

with similar_tab:
    catalogue = dash.products(())
    labels = dict(zip(catalogue["product_id"], catalogue["label"], strict=True))
    product_id = st.selectbox("Product", list(labels), format_func=labels.get, key="rec_similar")
    similar = shared.guarded(lambda: svc.similar_products(product_id, k, version), NoModelError)
    rec_chart(similar, "rec_similar_chart")
    st.dataframe(similar, hide_index=True)

with basket_tab:
    basket = st.multiselect("Products in the basket", list(labels), format_func=labels.get,
                            key="rec_basket", max_selections=20)
    if not basket:
        st.info("Pick one or more products to complete the basket.")
    else:
        completion = shared.guarded(lambda: svc.complete_basket(tuple(basket), k, rules, version),
                                    NoModelError)
        rec_chart(completion, "rec_basket_chart")
        st.dataframe(completion, hide_index=True)

with bulk_tab:
    source = st.radio("Customers", ["Segment", "Uploaded list"], horizontal=True,
                      key="rec_bulk_source")
    segment, ids = None, None
    if source == "Segment":
        segs = dash.segments()
        sizes = dict(zip(segs["segment"], segs["customers"], strict=True))
        segment = st.selectbox("Segment", list(sizes), key="rec_segment",
                               format_func=lambda s: f"{s} ({sizes[s]:,} customers)")
    else:
        upload = st.file_uploader("CSV with a customer_id column (or one id per line)",
                                  type=["csv", "txt"], key="rec_upload")
        if upload is not None:
            text = upload.getvalue().decode("utf-8", errors="replace").splitlines()
            rows = [line.split(",")[0].strip() for line in text if line.strip()]
            ids = tuple(r for r in rows if r and r.lower() != "customer_id")
            st.caption(f"{len(ids):,} customer ids read from {upload.name}.")
    if (segment or ids) and st.toggle("Build the list", key="rec_bulk_go"):
        bulk = shared.guarded(lambda: svc.bulk_recommendations(ids, segment, k, rules, version),
                              NoModelError)
        st.dataframe(bulk.head(200), hide_index=True)
        st.caption(f"Preview of the first 200 of {bulk.height:,} rows.")
        if st.checkbox("Pseudonymise customer ids (keyed hash)", key="rec_pseudo"):
            bulk = bulk.with_columns(pseudonymise(bulk["customer_id"], shared.privacy_key()))
        shared.export_buttons(bulk, "bulk_recommendations", key="rec_bulk_export")
