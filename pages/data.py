"""Data & models (admins): upload a file to ingest (with the load report), data-quality summary,
model versions and metrics, and a refresh that retrains, forecasts and plans with progress."""

from __future__ import annotations

import tempfile
from pathlib import Path

import plotly.express as px
import streamlit as st

from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared
from services.pipeline import run_pipeline
from warehouse import ingest
from warehouse.db import WarehouseError
from warehouse.ingest.sales_panel import PanelColumns

shared.require("data")
st.title("Data & models")
ingest_tab, quality_tab, models_tab, refresh_tab = st.tabs(
    ["Ingest a file", "Data quality", "Model versions", "Refresh"]
)

with ingest_tab:
    kind = st.selectbox(
        "Kind of file", ["online-retail", "sales-panel", "inventory", "supply"], key="data_kind"
    )
    upload = st.file_uploader(
        "File (csv, parquet, xlsx or zip)",
        type=["csv", "parquet", "xlsx", "zip"],
        key="data_upload",
    )
    panel_cols: dict[str, str] = {}
    if kind == "sales-panel":
        c = st.columns(4)
        for i, (name, default) in enumerate(
            (
                ("date_col", "date"),
                ("store_col", "store"),
                ("item_col", "item"),
                ("qty_col", "sales"),
            )
        ):
            panel_cols[name] = c[i].text_input(name.replace("_", " "), default, key=f"data_{name}")
    if upload is not None and st.button("Load into the warehouse", type="primary", key="data_load"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            try:
                with st.spinner(f"Loading {upload.name}..."):
                    db = shared.db_path()
                    if kind == "online-retail":
                        report = ingest.ingest_online_retail(db, path)
                    elif kind == "sales-panel":
                        report = ingest.ingest_sales_panel(
                            db,
                            path,
                            PanelColumns(
                                panel_cols["date_col"],
                                panel_cols["store_col"],
                                panel_cols["item_col"],
                                panel_cols["qty_col"],
                                None,
                            ),
                        )
                    elif kind == "inventory":
                        report = ingest.ingest_inventory(db, path)
                    else:
                        report = ingest.ingest_supply(db, path)
            except (WarehouseError, ValueError) as exc:
                st.error(f"Load refused, warehouse unchanged: {exc}")
            else:
                st.success(
                    f"Loaded {upload.name}: {report.rows_added:,} rows added, "
                    f"{report.rows_quarantined:,} quarantined."
                )
                st.code(report.render(), language=None)

with quality_tab:
    quality = dash.data_quality()
    c = st.columns(3)
    c[0].metric("Loads", f"{quality.loads.height:,}")
    c[1].metric("Rows quarantined", f"{quality.quarantined_rows:,}")
    c[2].metric(
        "Reasons",
        f"{quality.quarantine['reason'].n_unique():,}" if quality.quarantine.height else "0",
    )
    if quality.quarantine.height:
        fig = px.bar(
            quality.quarantine.to_pandas(), x="rows", y="reason", color="source", orientation="h"
        )
        fig.update_layout(
            height=max(240, 28 * quality.quarantine.height), margin={"t": 10, "b": 10}
        )
        st.plotly_chart(fig, key="data_quarantine_chart")
        st.dataframe(quality.quarantine, hide_index=True)
    else:
        st.success("No quarantined rows.")
    st.subheader("Load log")
    if quality.loads.is_empty():
        st.caption("No file loads yet (the demo warehouse is generated, not loaded).")
    else:
        st.dataframe(quality.loads, hide_index=True)

with models_tab:
    st.subheader("Recommendation model: serving and rollback")
    recsys_versions = svc.recsys_versions()
    st.dataframe(recsys_versions, hide_index=True)
    if not recsys_versions.is_empty():
        pick, pin_col, unpin_col = st.columns([2, 1, 1], vertical_alignment="bottom")
        chosen = pick.selectbox(
            "Version to serve", recsys_versions["version"].to_list(), key="data_pin_version"
        )
        if pin_col.button("Pin", key="data_pin", icon=":material/push_pin:"):
            svc.pin_model(int(chosen))
            st.success(f"Pinned version {chosen}: serving, exports and status use it.")
        if unpin_col.button("Unpin", key="data_unpin"):
            svc.unpin_model()
            st.success("Unpinned: serving the newest good version.")
    st.subheader("All artifacts")
    versions = dash.model_versions()
    if versions.is_empty():
        st.info("No model artifacts yet: run `python -m services pipeline` (or the Refresh tab).")
    else:
        st.dataframe(versions, hide_index=True)
    for table, label in (
        ("forecast_runs", "Forecast runs"),
        ("backtest_results", "Backtest"),
        ("simulation_results", "Inventory simulation"),
    ):
        frame = dash.optional_table(table, 200)
        if frame is not None:
            st.subheader(label)
            st.dataframe(frame, hide_index=True)

with refresh_tab:
    st.write(
        "Retrains recommendations, forecasts demand and plans orders, each into a new "
        "warehouse file swapped in atomically; the app keeps serving. By default only the "
        "steps whose inputs changed since their output was made run (the sidebar's rule)."
    )
    mode = st.radio(
        "Steps",
        ["Changed since built", "Only missing", "All"],
        horizontal=True,
        key="data_refresh_mode",
    )
    if st.button("Refresh now", type="primary", key="data_refresh", icon=":material/refresh:"):
        with st.status("Refreshing...", expanded=True) as status:
            bar = st.progress(0.0)

            def progress(name: str, done: int, total: int) -> None:
                """Move the bar to `done` of `total` steps, naming the step."""
                bar.progress(done / total if total else 1.0, text=f"{name} ({done}/{total})")

            try:
                log = run_pipeline(
                    shared.db_path(),
                    if_missing=mode == "Only missing",
                    force=mode == "All",
                    progress=progress,
                )
            except WarehouseError as exc:
                status.update(label=f"Refresh failed: {exc}", state="error")
            else:
                for line in log:
                    st.write(line)
                status.update(label="Refresh done", state="complete")
