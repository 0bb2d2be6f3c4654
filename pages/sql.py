"""SQL workbench (analysts): example queries, schema browser, results grid, quick chart, export
and this session's query history; every query runs in the read-only sandbox."""

from __future__ import annotations

import time

import plotly.express as px
import polars as pl
import streamlit as st

from pages import _reads as dash
from pages import _shared as shared
from warehouse.db import WarehouseError
from warehouse.sandbox import QueryResult, run_sandboxed

user = shared.require("sql")
st.title("SQL workbench")
EXAMPLES: dict[str, str] = {
    "Revenue by category, last 90 days": (
        "SELECT p.category, round(sum(d.revenue), 2) AS revenue, sum(d.units) AS units\n"
        "FROM fct_sales_daily d JOIN dim_product p USING (product_id)\n"
        "WHERE d.sale_date > (SELECT max(sale_date) FROM fct_sales_daily) - INTERVAL 90 DAY\n"
        "GROUP BY ALL ORDER BY revenue DESC"),
    "Weekly revenue": (
        "SELECT date_trunc('week', sale_date) AS week, round(sum(revenue), 2) AS revenue\n"
        "FROM fct_sales_daily GROUP BY ALL ORDER BY week"),
    "Stockouts at the latest snapshot": (
        "SELECT store_id, count(*) AS positions_out_of_stock\nFROM fct_inventory\n"
        "WHERE snapshot_date = (SELECT max(snapshot_date) FROM fct_inventory)\n"
        "  AND on_hand_units <= 0\nGROUP BY ALL ORDER BY 2 DESC"),
    "Columns of fct_sales_daily": "DESCRIBE fct_sales_daily",
    "Profile of dim_product": "SUMMARIZE dim_product",
}
HISTORY_KEY = "sql_history"


def run_query(sql: str, max_rows: int, timeout_s: float) -> QueryResult:
    """Run one statement in the read-only sandbox with the user's role."""
    return run_sandboxed(shared.db_path(), sql, max_rows=max_rows, timeout_s=timeout_s,
                         role=user.role)


def load_example() -> None:
    """Copy the chosen example into the editor."""
    st.session_state["sql_text"] = EXAMPLES[st.session_state["sql_example"]]


editor, schema = st.columns([3, 1])
with schema:
    st.subheader("Schema")
    tables = dash.schema_tables()
    columns = dash.schema_columns()
    st.dataframe(tables, hide_index=True, height=260, key="sql_tables", column_config={
        "table_name": "table", "rows": st.column_config.NumberColumn(format="localized")})
    names = tables["table_name"].to_list()
    chosen = st.selectbox("Columns of", names, key="sql_schema_table",
                          index=names.index("fct_sales_daily") if "fct_sales_daily" in names
                          else 0)
    st.dataframe(columns.filter(pl.col("table_name") == chosen).select("column_name",
                                                                        "data_type"),
                 hide_index=True, key="sql_columns")
with editor:
    st.selectbox("Example queries", list(EXAMPLES), key="sql_example", on_change=load_example,
                 index=None, placeholder="Load an example...")
    if "sql_text" not in st.session_state:
        st.session_state["sql_text"] = next(iter(EXAMPLES.values()))
    sql = st.text_area("SQL (one read-only statement)", key="sql_text", height=180)
    c1, c2, c3 = st.columns([1, 1, 1], vertical_alignment="bottom")
    max_rows = c1.number_input("Row cap", 10, 100_000, 1000, step=100, key="sql_max_rows")
    timeout_s = c2.number_input("Time limit (s)", 1, 300, 30, key="sql_timeout")
    run = c3.button("Run", type="primary", icon=":material/play_arrow:", key="sql_run")
    history: list[dict[str, object]] = st.session_state.setdefault(HISTORY_KEY, [])
    if run:
        started = time.perf_counter()
        try:
            result = run_query(sql, int(max_rows), float(timeout_s))
        except WarehouseError as exc:
            st.error(f"Refused: {exc}")
            history.insert(0, {"sql": sql, "rows": None, "seconds": None, "outcome": str(exc)})
        else:
            st.session_state["sql_result"] = result
            seconds = getattr(result, "elapsed_s", time.perf_counter() - started)
            history.insert(0, {"sql": sql, "rows": result.frame.height,
                               "seconds": round(seconds, 3),
                               "outcome": "truncated" if result.truncated else "ok"})
    result = st.session_state.get("sql_result")
    if result is not None:
        frame = result.frame
        if result.truncated:
            st.warning(f"Truncated: showing the first {frame.height:,} rows (raise the row cap "
                       "to see more).")
        st.dataframe(frame, hide_index=True, height=320)
        shared.export_buttons(frame, "query_result", key="sql_export")
        numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
        if frame.height and numeric:
            with st.expander("Quick chart", expanded=True, icon=":material/bar_chart:"):
                k1, k2, k3 = st.columns(3)
                x = k1.selectbox("x", frame.columns, key="sql_chart_x")
                y = k2.selectbox("y", numeric, index=len(numeric) - 1, key="sql_chart_y")
                kind = k3.radio("Chart", ["bar", "line", "scatter"], horizontal=True,
                                key="sql_chart_kind")
                draw = {"bar": px.bar, "line": px.line, "scatter": px.scatter}[kind]
                fig = draw(frame.head(5000).to_pandas(), x=x, y=y)
                fig.update_layout(height=320, margin={"t": 10, "b": 10})
                st.plotly_chart(fig, key="sql_chart")
    if history:
        with st.expander(f"Query history ({len(history)})", icon=":material/history:"):
            st.dataframe(pl.DataFrame(history, strict=False), hide_index=True)
