"""Sidebar block: data as-of and whether the model, forecast, plan and lists are older.

Renders `services.freshness.freshness_report` (the pipeline's own staleness rule); no logic here.
Imports nothing heavy (no torch, no scipy): it runs on every page, the first one included.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from services.freshness import FreshnessReport, freshness_report
from warehouse.db import WarehouseError, generation


@st.cache_data(ttl=30, show_spinner=False)
def _report(path: str, _generation: tuple[int, int]) -> FreshnessReport:
    return freshness_report(Path(path))


def render_freshness(path: Path) -> None:
    """The freshness block of the sidebar (a warning when any output is older than the data)."""
    try:
        report = _report(os.fspath(path), generation(path))
    except (WarehouseError, OSError) as exc:
        st.sidebar.caption(f"Freshness unknown: {exc}")
        return
    stale = report.stale
    loaded = f" · loaded {report.loaded_at:%Y-%m-%d %H:%M} UTC" if report.loaded_at else ""
    with st.sidebar.expander("Freshness", expanded=bool(stale), icon=":material/schedule:"):
        st.markdown(f"**Data as of** {report.data_as_of or '-'}{loaded}")
        for line in report.outputs:
            mark = ":orange[:material/warning:]" if line.stale else ":green[:material/check:]"
            st.markdown(f"{mark} **{line.label}** {line.as_of}")
        if stale:
            reasons = "\n".join(f"- {o.label}: {o.reason}" for o in stale)
            st.warning(
                f"{len(stale)} output(s) older than the data:\n{reasons}\n\n"
                "Refresh: Data page → Refresh, or `python -m services pipeline`."
            )
