"""Data & models (admins): upload a file to ingest (with the load report), data-quality summary,
model versions and metrics, and a refresh that retrains, forecasts and plans with progress."""

from __future__ import annotations

import streamlit as st

from pages import _shared as shared
from pages._admin import holiday_section, models_tab, quality_tab, refresh_tab
from services.loads import COLUMN_FIELDS, LOAD_KINDS, load_upload
from warehouse.db import WarehouseError

shared.require("data")
st.title("Data & models")
ingest_tab, quality, models, refresh = st.tabs(  # only the open tab runs (no grid at first)
    ["Ingest a file", "Data quality", "Model versions", "Refresh"],
    key="data_tab",
    on_change="rerun",
)

with ingest_tab:
    if ingest_tab.open:
        kind = st.selectbox("Kind of file", list(LOAD_KINDS), key="data_kind")
        upload = st.file_uploader(
            "File (csv, parquet, xlsx or zip)",
            type=["csv", "parquet", "xlsx", "zip"],
            key="data_upload",
        )
        fields = COLUMN_FIELDS[kind]
        names: dict[str, str] = {}
        boxes = st.columns(len(fields))
        for box, field in zip(boxes, fields, strict=True):
            names[field.role] = box.text_input(
                "Column names" if field.role == "columns" else field.role.replace("_", " "),
                field.default,
                help=field.hint.strip(" ()") or None,
                placeholder="invoice=order_no, price=" if field.role == "columns" else None,
                key=f"data_{kind.replace('-', '_')}_{field.role}",
            )
            if field.hint and field.role != "columns":
                box.caption(field.hint.strip(" ()"))
        if kind == "online-retail":
            st.caption(field.hint.strip(" ()") + "; other columns are found by their usual names.")
        if kind == "sales-panel" and st.checkbox(
            "The file has sales lines (an item may repeat within a day): add them up",
            key="data_sum_lines",
        ):
            names["duplicates"] = "sum"
        if upload is not None and st.button(
            "Load into the warehouse", type="primary", key="data_load"
        ):
            try:
                with st.spinner(f"Loading {upload.name}..."):
                    report = load_upload(
                        shared.db_path(), kind, upload.name, upload.getvalue(), names
                    )
            except (WarehouseError, ValueError) as exc:
                st.error(f"Load refused, warehouse unchanged: {exc}")
            else:
                st.success(
                    f"Loaded {upload.name}: {report.rows_added:,} rows added, "
                    f"{report.rows_quarantined:,} quarantined."
                )
                st.code(report.render(), language=None)
        holiday_section()

with quality:
    if quality.open:
        quality_tab()
with models:
    if models.open:
        models_tab()
with refresh:
    if refresh.open:
        refresh_tab()
