"""Data & models (admins): upload a file to ingest (with the load report), data-quality summary,
model versions and metrics, and a refresh that retrains, forecasts and plans with progress."""

from __future__ import annotations

import streamlit as st

from pages import _shared as shared
from pages._admin import holiday_section, models_tab, quality_tab, refresh_tab
from services.loads import LOAD_KINDS, PANEL_DEFAULTS, PANEL_HINTS, load_upload
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
        panel_cols: dict[str, str] = {}
        if kind == "sales-panel":
            c = st.columns(len(PANEL_DEFAULTS))
            for i, (name, default) in enumerate(PANEL_DEFAULTS):
                panel_cols[name] = c[i].text_input(
                    name.replace("_", " ") + PANEL_HINTS.get(name, ""),
                    default,
                    key=f"data_{name}",
                )
            if st.checkbox(
                "The file has sales lines (an item may repeat within a day): add them up",
                key="data_sum_lines",
            ):
                panel_cols["duplicates"] = "sum"
        if upload is not None and st.button(
            "Load into the warehouse", type="primary", key="data_load"
        ):
            try:
                with st.spinner(f"Loading {upload.name}..."):
                    report = load_upload(
                        shared.db_path(), kind, upload.name, upload.getvalue(), panel_cols
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
