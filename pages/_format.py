"""One formatting layer for every table of the app (Streamlit `column_config`).

`table(frame)` shows a frame with human headers, pounds with thousand separators, whole units,
percentages, dates without times, the decision columns first and no raw JSON or `None`.
`config(frame)` returns the same `column_config` for `st.data_editor`. The rules themselves
(labels, number formats, column order, `tidy`) are `services.display`.
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl
import streamlit as st

from services.display import DECISION_FIRST, label, number_format, tidy


def config(frame: pl.DataFrame, widths: dict[str, int] | None = None) -> dict[str, Any]:
    """`column_config` for every column of `frame` (labels and number/date formats); `widths`:
    column -> width in pixels (others sized by Streamlit)."""
    out: dict[str, Any] = {}
    for name, dtype in frame.schema.items():
        width = (widths or {}).get(name)
        if dtype == pl.Date:
            out[name] = st.column_config.DateColumn(label(name), format="D MMM YYYY", width=width)
        elif isinstance(dtype, pl.Datetime):
            out[name] = st.column_config.DatetimeColumn(
                label(name), format="D MMM YYYY HH:mm", width=width
            )
        elif dtype.is_numeric():
            shown = number_format(name, dtype)
            out[name] = st.column_config.NumberColumn(
                label(name),
                format=shown,
                # percent alone prints "69%" beside "67.2%"; a 0.001 step fixes one decimal
                step=0.001 if shown == "percent" else None,
                width=width,
            )
        elif dtype == pl.Boolean:
            out[name] = st.column_config.CheckboxColumn(label(name), width=width)
        else:
            out[name] = st.column_config.TextColumn(label(name), width=width)
    return out


def table(
    frame: pl.DataFrame,
    *,
    key: str | None = None,
    height: int | Literal["auto", "content", "stretch"] = "auto",
    first: tuple[str, ...] = DECISION_FIRST,
    hide: tuple[str, ...] = (),
    widths: dict[str, int] | None = None,
) -> None:
    """Show `frame` through the formatting layer (read-only grid); `widths` in pixels."""
    shown = tidy(frame.drop([c for c in hide if c in frame.columns]), first)
    st.dataframe(
        shown, hide_index=True, key=key, height=height, column_config=config(shown, widths)
    )
