"""Helpers of the SQL workbench: the highlighted editor, schema order, the default chart."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import polars as pl
import streamlit as st
from code_editor import code_editor

TEXT_KEY = "sql_text"
EDITOR_VERSION_KEY = "sql_editor_version"
SEEN_KEY = "sql_editor_seen"
#: Schema order: marts first, then pipeline outputs, then staging, raw and bookkeeping.
LAYERS: tuple[tuple[str, str], ...] = (
    ("dim_", "mart"),
    ("fct_", "mart"),
    ("stg_", "staging"),
    ("raw_", "raw"),
    ("ref_", "reference"),
)
INTERNAL = {"_meta", "load_log", "quarantine", "source_frequency"}
LAYER_ORDER = {"mart": 0, "output": 1, "reference": 2, "staging": 3, "raw": 4, "internal": 5}


def set_text(sql: str) -> None:
    """Put `sql` into the editor (remounts it with the new text)."""
    st.session_state[TEXT_KEY] = sql
    st.session_state[EDITOR_VERSION_KEY] = st.session_state.get(EDITOR_VERSION_KEY, 0) + 1


def editor(plain: bool) -> tuple[str, bool]:
    """The SQL editor; returns (text, submitted with Ctrl+Enter or the editor's Run)."""
    if plain:
        return st.text_area("SQL (one read-only statement)", key=TEXT_KEY, height=180), False
    version = st.session_state.get(EDITOR_VERSION_KEY, 0)
    st.caption("SQL (one read-only statement) · Ctrl+Enter runs it")
    answer = code_editor(
        st.session_state[TEXT_KEY],
        lang="sql",
        height=[8, 18],
        key=f"sql_editor_{version}",
        response_mode=["debounce", "blur"],
        options={"wrap": True, "showLineNumbers": True},
        buttons=[
            {
                "name": "Run",
                "feather": "Play",
                "primary": True,
                "hasText": True,
                "showWithIcon": True,
                "commands": ["submit"],
                "style": {"bottom": "0.44rem", "right": "0.4rem"},
            }
        ],
    )
    if answer and answer.get("id") and answer["id"] != st.session_state.get(SEEN_KEY):
        st.session_state[SEEN_KEY] = answer["id"]
        st.session_state[TEXT_KEY] = answer.get("text", "")
        return st.session_state[TEXT_KEY], answer.get("type") == "submit"
    return st.session_state[TEXT_KEY], False


def ordered_tables(tables: pl.DataFrame) -> pl.DataFrame:
    """Tables with a `layer` column, marts first, internal tables last."""

    def layer(name: str) -> str:
        if name in INTERNAL or name.startswith("_"):
            return "internal"
        return next((lay for prefix, lay in LAYERS if name.startswith(prefix)), "output")

    out = tables.with_columns(
        pl.col("table_name").map_elements(layer, return_dtype=pl.String).alias("layer")
    )
    return (
        out.with_columns(pl.col("layer").replace_strict(LAYER_ORDER).alias("_o"))
        .sort("_o", "table_name")
        .drop("_o")
        .select("table_name", "layer", "rows", "columns")
    )


def table_about(row: dict[str, object]) -> str:
    """A schema table's caption under the picker: "mart · 1,234 rows · 5 columns"."""
    rows, columns = row.get("rows"), row.get("columns")
    count = f"{rows:,} rows" if isinstance(rows, int) else "rows unknown"
    return f"{row['layer']} · {count}" + (f" · {columns} columns" if columns else "")


def columns_markdown(columns: pl.DataFrame) -> str:
    """A table's (column_name, data_type) rows as a markdown table (names in code style)."""
    lines = ["| column | type |", "| --- | --- |"]
    lines += [f"| `{name}` | {kind} |" for name, kind in columns.iter_rows()]
    return "\n".join(lines)


def default_chart(frame: pl.DataFrame) -> tuple[str, str, str] | None:
    """(kind, x, y) chosen from the result's types, or None when nothing sensible to draw.

    A date column -> line over time; else a text column with at most 50 values -> bars of the
    top 30; else two numbers -> scatter. Id-like columns (many distinct values) are never bars.
    """
    numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
    temporal = [c for c, t in frame.schema.items() if t.is_temporal()]
    texts = [
        c
        for c, t in frame.schema.items()
        if t in (pl.String, pl.Categorical, pl.Boolean) and frame[c].n_unique() <= 50
    ]
    if not numeric or not frame.height:
        return None
    y = numeric[-1]
    if temporal:
        return "line", temporal[0], y
    if texts:
        return "bar", texts[0], y
    if len(numeric) >= 2:
        return "scatter", numeric[0], numeric[1]
    return None


def chart(frame: pl.DataFrame, kind: str, x: str, y: str) -> go.Figure:
    """The result drawn as `kind` (bars: the 30 largest `y`, sorted)."""
    data = frame.head(5000)
    if kind == "bar":
        data = data.group_by(x).agg(pl.col(y).sum()).sort(y, descending=True).head(30)
        fig = px.bar(data.to_pandas(), x=y, y=x, orientation="h")
        fig.update_layout(yaxis={"autorange": "reversed", "type": "category"})
    elif kind == "line":
        fig = px.line(data.sort(x).to_pandas(), x=x, y=y, markers=data.height < 60)
    else:
        fig = px.scatter(data.to_pandas(), x=x, y=y)
    fig.update_layout(height=340, margin={"t": 10, "b": 10})
    return fig
