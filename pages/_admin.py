"""Tabs of the Data & models page: data quality, model versions (pin, unpin), refresh."""

from __future__ import annotations

import plotly.express as px
import polars as pl
import streamlit as st

from pages import _format as fmt
from pages import _reads as dash
from pages import _services as svc
from pages import _shared as shared
from services.loads import holiday_calendar, set_holiday_calendar
from services.pipeline import run_pipeline
from warehouse.db import WarehouseError


def holiday_section() -> None:
    """The warehouse's holiday calendar, and a country code field to change it."""
    st.subheader("Holiday calendar")
    calendar = holiday_calendar(shared.db_path())
    st.caption(
        f"Forecasts read public holidays from the warehouse: {calendar}. GB holds only the "
        "UK-wide ones: a shop in England sets GB-ENG (Easter Monday, the August bank "
        "holiday), in Scotland GB-SCT, elsewhere its own country, once (the marts are "
        "rebuilt; forecasts use it from their next refresh)."
    )
    code_col, button_col = st.columns([1, 2], vertical_alignment="bottom")
    code = code_col.text_input(
        "Country or region (ISO 3166, e.g. US or GB-SCT)",
        calendar.country,
        max_chars=16,
        key="data_holiday_country",
    )
    if button_col.button("Use this calendar", key="data_holiday_set"):
        try:
            with st.spinner(f"Rebuilding the calendar for {code}..."):
                calendar = set_holiday_calendar(shared.db_path(), code)
        except WarehouseError as exc:
            st.error(f"Calendar unchanged: {exc}")
        else:
            st.success(f"Holiday calendar: {calendar}. Refresh the forecasts to use it.")


def quality_tab() -> None:
    """Loads, quarantined rows by reason (chart and table) and the load log."""
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
        fmt.table(quality.quarantine, key="data_quarantine")
    else:
        st.success("No quarantined rows.")
    st.subheader("Load log")
    if quality.loads.is_empty():
        st.caption("No file loads yet (the demo warehouse is generated, not loaded).")
    else:
        fmt.table(quality.loads, key="data_loads")


def models_tab() -> None:
    """Recommendation versions with pin and unpin, every artifact and the pipeline tables."""
    st.subheader("Recommendation model: serving and rollback")
    recsys_versions = svc.recsys_versions()
    trained = pl.col("trained_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%z", strict=False)
    fmt.table(  # trained_at is an ISO text in the manifest: shown as a date and time
        recsys_versions.with_columns(trained),
        key="data_recsys_versions",
        first=("version", "status"),
    )
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
        fmt.table(versions, key="data_artifacts")
    for table, label in (
        ("forecast_runs", "Forecast runs"),
        ("backtest_results", "Backtest"),
        ("simulation_results", "Inventory simulation"),
    ):
        frame = dash.optional_table(table, 200)
        if frame is not None:
            st.subheader(label)
            fmt.table(frame, key=f"data_{table}")


def refresh_tab() -> None:
    """Retrain, forecast and plan with a progress bar (only what changed, missing or all)."""
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
