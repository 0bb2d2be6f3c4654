"""Recommendations (merchandisers): a customer's history and top-K with reasons, similar products,
complete-the-basket and bulk lists (segment, saved segment or uploaded ids), all under the same
business rules and each with an export; a segment builder. Tabs render only when open."""

from __future__ import annotations

import streamlit as st

from pages import _format as fmt
from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared
from pages._bulk import bulk_list
from pages._recs import ranked_list, rules_form
from pages._segments import segment_builder
from recsys.errors import NoModelError
from services.display import serving_text

#: The history grid's columns in pixels: its four decision columns fit its 4/9 of the page's width
#: at 1400 px (the sale's day, not its time: with the time the quantity was cut off at the edge).
HISTORY_WIDTHS = {"sold_at": 95, "description": 150, "units": 55, "revenue": 75}

user = shared.require("recommendations")
st.title("Recommendations")
status = shared.guarded(svc.model_status, NoModelError)
if status is None:
    shared.empty_state(svc.no_model_text())
version = str(status.get("version") or "")  # a cache key of the lists
st.caption(serving_text(status))  # what really makes each list (the ranker, item vectors)
categories = list(dash.filter_options()[1])
rules = rules_form(categories)
k = st.slider("How many (K)", 5, 50, 20, key="rec_k")

customer_tab, similar_tab, basket_tab, bulk_tab, segment_tab = st.tabs(
    ["Customer", "Similar products", "Complete the basket", "Bulk list", "Segment builder"],
    key="rec_tab",
    on_change="rerun",
)

with customer_tab:
    if customer_tab.open:
        prefix = st.text_input("Search customer id", key="rec_prefix", placeholder="e.g. C0001")
        found = dash.customer_search(prefix or "", 50)
        if found.is_empty():
            shared.empty_state("No customer id starts with that.")
        names = {
            row["customer_id"]: f"{row['customer_id']} · {row['segment']} · "
            f"{row['orders']:,} orders"
            for row in found.iter_rows(named=True)
        }
        customer_id = shared.pick(st, "Customer", names, "rec_customer", "No customers.")
        recs = shared.guarded(lambda: svc.recommend(customer_id, k, rules, version), NoModelError)
        left, right = st.columns([5, 4])
        with left:
            st.subheader(f"Top {k} for {customer_id}")
            ranked_list(recs, categories, "rec_cust", f"recommendations_{customer_id}")
        with right:
            st.subheader("History")
            fmt.table(  # date first, ids hidden, widths set: the decision columns fit
                svc.customer_history(customer_id),
                key="rec_history",
                height=420,
                first=("sold_at", "description", "units", "revenue"),
                hide=("order_id", "product_id"),
                widths=HISTORY_WIDTHS,
            )

if similar_tab.open or basket_tab.open:
    catalogue = dash.products(())
    labels = dict(zip(catalogue["product_id"], catalogue["label"], strict=True))

with similar_tab:
    if similar_tab.open:
        product_id = shared.pick(st, "Product", labels, "rec_similar", "No products.")
        similar = shared.guarded(
            lambda: svc.similar_products(product_id, k, rules, version), NoModelError
        )
        ranked_list(similar, categories, "rec_similar", f"similar_to_{product_id}")

with basket_tab:
    if basket_tab.open:
        basket = st.multiselect(
            "Products in the basket",
            list(labels),
            format_func=lambda p: labels.get(p, p),
            key="rec_basket",
            max_selections=20,
        )
        if not basket:
            st.info("Pick one or more products to complete the basket.")
        else:
            completion = shared.guarded(
                lambda: svc.complete_basket(tuple(basket), k, rules, version), NoModelError
            )
            ranked_list(completion, categories, "rec_basket", "complete_the_basket")

with bulk_tab:
    if bulk_tab.open:
        bulk_list(user.name, k, rules, version)

with segment_tab:
    if segment_tab.open:
        segment_builder(user.name)
