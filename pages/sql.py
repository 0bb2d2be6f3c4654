"""SQL workbench (analysts): a highlighted editor, examples and saved queries, the schema with
marts first, results (cleared on error), a chart chosen from the result's types, export, and a
click-to-rerun history; every query runs in the read-only sandbox."""

from __future__ import annotations

import time

import polars as pl
import streamlit as st

from pages import _format as fmt
from pages import _reads as dash
from pages import _shared as shared
from pages import _workbench as ui
from services import queries
from warehouse.db import WarehouseError
from warehouse.sandbox import QueryResult, run_sandboxed

user = shared.require("sql")
st.title("SQL workbench")
EXAMPLES: dict[str, str] = {
    "Revenue by category, last 90 days": (
        "SELECT p.category, round(sum(d.revenue), 2) AS revenue, sum(d.units) AS units\n"
        "FROM fct_sales_daily d JOIN dim_product p USING (product_id)\n"
        "WHERE d.sale_date > (SELECT max(sale_date) FROM fct_sales_daily) - INTERVAL 90 DAY\n"
        "GROUP BY ALL ORDER BY revenue DESC"
    ),
    "Weekly revenue": (
        "SELECT date_trunc('week', sale_date) AS week, round(sum(revenue), 2) AS revenue\n"
        "FROM fct_sales_daily GROUP BY ALL ORDER BY week"
    ),
    "Stockouts at the latest snapshot": (
        "SELECT store_id, count(*) AS positions_out_of_stock\nFROM fct_inventory\n"
        "WHERE snapshot_date = (SELECT max(snapshot_date) FROM fct_inventory)\n"
        "  AND on_hand_units <= 0\nGROUP BY ALL ORDER BY 2 DESC"
    ),
    "Columns of fct_sales_daily": "DESCRIBE fct_sales_daily",
    "Profile of dim_product": "SUMMARIZE dim_product",
}
HISTORY_KEY = "sql_history"


def run_query(sql: str, max_rows: int, timeout_s: float) -> QueryResult:
    """Run one statement in the read-only sandbox with the user's role."""
    return run_sandboxed(
        shared.db_path(), sql, max_rows=max_rows, timeout_s=timeout_s, role=user.role
    )


def load(sql: str) -> None:
    """Copy `sql` into the editor (an example, a saved query or a history entry)."""
    ui.set_text(sql)


def rerun(sql: str) -> None:
    """Load a history entry and run it again."""
    ui.set_text(sql)
    st.session_state["sql_rerun"] = True


saved = queries.saved_queries(shared.db_path(), user.name)
editor, schema = st.columns([3, 1])
with schema:
    st.subheader("Schema")
    tables = ui.ordered_tables(dash.schema_tables())
    st.dataframe(
        tables, hide_index=True, height=260, key="sql_tables", column_config=fmt.config(tables)
    )
    names = tables["table_name"].to_list()
    chosen = st.selectbox(
        "Columns of",
        names,
        key="sql_schema_table",
        index=names.index("fct_sales_daily") if "fct_sales_daily" in names else 0,
    )
    st.dataframe(
        dash.schema_columns()
        .filter(pl.col("table_name") == chosen)
        .select("column_name", "data_type"),
        hide_index=True,
        key="sql_columns",
    )
with editor:
    c1, c2 = st.columns(2)
    example = c1.selectbox(
        "Example queries",
        list(EXAMPLES),
        key="sql_example",
        index=None,
        placeholder="Load an example...",
    )
    if example and st.session_state.get("sql_example_loaded") != example:
        st.session_state["sql_example_loaded"] = example
        load(EXAMPLES[example])
    mine = c2.selectbox(
        "My saved queries",
        sorted(saved),
        key="sql_saved",
        index=None,
        placeholder="Load a saved query..." if saved else "None saved yet",
    )
    if mine and st.session_state.get("sql_saved_loaded") != mine:
        st.session_state["sql_saved_loaded"] = mine
        load(saved[mine])
    st.session_state.setdefault(ui.TEXT_KEY, next(iter(EXAMPLES.values())))
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
    history: list[dict[str, object]] = st.session_state.setdefault(HISTORY_KEY, [])
    if run or submitted or st.session_state.pop("sql_rerun", False):
        started = time.perf_counter()
        try:
            result = run_query(sql, int(max_rows), float(timeout_s))
        except WarehouseError as exc:
            st.session_state.pop("sql_result", None)  # never leave an old result under an error
            st.error(f"Refused: {exc}")
            history.insert(0, {"sql": sql, "rows": None, "seconds": None, "outcome": str(exc)})
        else:
            st.session_state["sql_result"] = result
            seconds = getattr(result, "elapsed_s", time.perf_counter() - started)
            history.insert(
                0,
                {
                    "sql": sql,
                    "rows": result.frame.height,
                    "seconds": round(seconds, 3),
                    "outcome": "truncated" if result.truncated else "ok",
                },
            )
    result = st.session_state.get("sql_result")
    if result is not None:
        frame = result.frame
        if result.truncated:
            st.warning(
                f"Truncated: showing the first {frame.height:,} rows (raise the row cap "
                "to see more)."
            )
        st.dataframe(frame, hide_index=True, height=320, column_config=fmt.config(frame))
        shared.export_buttons(frame, "query_result", key="sql_export")
        guess = ui.default_chart(frame)
        if guess is not None:
            with st.expander("Chart", expanded=True, icon=":material/bar_chart:"):
                kinds = ["line", "bar", "scatter"]
                k1, k2, k3 = st.columns(3)
                kind = k1.radio(
                    "Chart",
                    kinds,
                    index=kinds.index(guess[0]),
                    horizontal=True,
                    key="sql_chart_kind",
                )
                x = k2.selectbox(
                    "x", frame.columns, index=frame.columns.index(guess[1]), key="sql_chart_x"
                )
                numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
                y = k3.selectbox("y", numeric, index=numeric.index(guess[2]), key="sql_chart_y")
                st.plotly_chart(ui.chart(frame, kind, x, y), key="sql_chart")
    if history:
        with st.expander(f"Query history ({len(history)})", icon=":material/history:"):
            for i, entry in enumerate(history[:20]):
                h1, h2 = st.columns([5, 1], vertical_alignment="center")
                rows = "error" if entry["rows"] is None else f"{entry['rows']:,} rows"
                h1.code(str(entry["sql"]), language="sql")
                h2.button(
                    f"Rerun ({rows})",
                    key=f"sql_hist_{i}",
                    on_click=rerun,
                    args=(str(entry["sql"]),),
                )
