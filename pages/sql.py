"""SQL workbench (analysts): a highlighted editor, examples and saved queries, the schema with
marts first, results (cleared on error), a chart chosen from the result's types, export, and a
click-to-rerun history; every query runs in the read-only sandbox."""

from __future__ import annotations

import polars as pl
import streamlit as st

from pages import _format as fmt
from pages import _reads as dash
from pages import _shared as shared
from pages import _sql_results as results
from pages import _workbench as ui
from services import queries
from services.queries import EXAMPLE_QUERIES
from warehouse.db import WarehouseError

user = shared.require("sql")
st.title("SQL workbench")

saved = queries.saved_queries(shared.db_path(), user.name)
editor, schema = st.columns([3, 1])
with schema:  # a picker and a markdown list: no data grid to load on the first render
    st.subheader("Schema")
    tables = ui.ordered_tables(dash.schema_tables())
    names = tables["table_name"].to_list()
    layers = dict(zip(names, tables["layer"], strict=True))
    chosen = st.selectbox(
        "Table (marts first)",
        names,
        key="sql_schema_table",
        index=names.index("fct_sales_daily") if "fct_sales_daily" in names else 0,
        format_func=lambda name: f"{name} · {layers[name]}",
    )
    st.caption(ui.table_about(tables.row(names.index(chosen), named=True)))
    columns = dash.schema_columns().filter(pl.col("table_name") == chosen)
    with st.container(height=300, border=False):
        st.markdown(ui.columns_markdown(columns.select("column_name", "data_type")))
    if st.toggle("Every table as a grid", key="sql_tables_grid"):
        st.dataframe(
            tables, hide_index=True, height=260, key="sql_tables", column_config=fmt.config(tables)
        )
with editor:
    c1, c2 = st.columns(2)
    example = c1.selectbox(
        "Example queries",
        list(EXAMPLE_QUERIES),
        key="sql_example",
        index=None,
        placeholder="Load an example...",
    )
    if example and st.session_state.get("sql_example_loaded") != example:
        st.session_state["sql_example_loaded"] = example
        ui.set_text(EXAMPLE_QUERIES[example])
    mine = c2.selectbox(
        "My saved queries",
        sorted(saved),
        key="sql_saved",
        index=None,
        placeholder="Load a saved query..." if saved else "None saved yet",
    )
    if mine and st.session_state.get("sql_saved_loaded") != mine:
        st.session_state["sql_saved_loaded"] = mine
        ui.set_text(saved[mine])
    st.session_state.setdefault(ui.TEXT_KEY, next(iter(EXAMPLE_QUERIES.values())))
    plain = st.toggle("Plain text editor", key="sql_plain", help="No highlighting")
    sql, submitted = ui.editor(plain)
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2], vertical_alignment="bottom")
    max_rows = c1.number_input("Row cap", 10, 100_000, 1000, step=100, key="sql_max_rows")
    timeout_s = c2.number_input("Time limit (s)", 1, 300, 30, key="sql_timeout")
    run = c3.button("Run", type="primary", icon=":material/play_arrow:", key="sql_run")
    with c4.popover("Save query", icon=":material/bookmark_add:"):
        name = st.text_input("Name", key="sql_save_name")
        if st.button("Save", key="sql_save", disabled=not name):
            try:
                queries.save_query(shared.db_path(), user.name, name.strip(), sql)
                st.success(f"Saved “{name.strip()}”.")
            except WarehouseError as exc:
                st.error(str(exc))
    if run or submitted or results.rerun_asked():
        results.run_and_record(sql, int(max_rows), float(timeout_s), user.role)
    results.result_block()
    results.history_block()
