"""Results of the SQL workbench: run and record a query, the result (table, export, chart) and
the click-to-rerun history. The last result lives in `st.session_state["sql_result"]`, cleared
when a query is refused, so an old result never shows under an error."""

from __future__ import annotations

import time

import streamlit as st

from pages import _format as fmt
from pages import _shared as shared
from pages import _workbench as ui
from pages._export import export_buttons
from warehouse.db import WarehouseError
from warehouse.sandbox import run_sandboxed

HISTORY_KEY = "sql_history"
RESULT_KEY = "sql_result"
RERUN_KEY = "sql_rerun"


def history() -> list[dict[str, object]]:
    """This session's queries, newest first: sql, rows (None on error), seconds, outcome."""
    return st.session_state.setdefault(HISTORY_KEY, [])


def rerun(sql: str) -> None:
    """Load a history entry and run it again."""
    ui.set_text(sql)
    st.session_state[RERUN_KEY] = True


def rerun_asked() -> bool:
    """Whether a history entry asked to be run again (once)."""
    return bool(st.session_state.pop(RERUN_KEY, False))


def run_and_record(sql: str, max_rows: int, timeout_s: float, role: str) -> None:
    """Run one statement in the read-only sandbox with `role`; keep the result and the history."""
    started = time.perf_counter()
    try:
        result = run_sandboxed(
            shared.db_path(), sql, max_rows=max_rows, timeout_s=timeout_s, role=role
        )
    except WarehouseError as exc:
        st.session_state.pop(RESULT_KEY, None)  # never leave an old result under an error
        st.error(f"Refused: {exc}")
        history().insert(0, {"sql": sql, "rows": None, "seconds": None, "outcome": str(exc)})
        return
    st.session_state[RESULT_KEY] = result
    seconds = getattr(result, "elapsed_s", time.perf_counter() - started)
    history().insert(
        0,
        {
            "sql": sql,
            "rows": result.frame.height,
            "seconds": round(seconds, 3),
            "outcome": "truncated" if result.truncated else "ok",
        },
    )


def result_block() -> None:
    """The last result: truncation notice, the grid, its export and a chart from its types."""
    result = st.session_state.get(RESULT_KEY)
    if result is None:
        return
    frame = result.frame
    if result.truncated:
        st.warning(
            f"Truncated: showing the first {frame.height:,} rows (raise the row cap to see more)."
        )
    st.dataframe(frame, hide_index=True, height=320, column_config=fmt.config(frame))
    export_buttons(frame, "query_result", key="sql_export")
    guess = ui.default_chart(frame)
    if guess is None:
        return
    with st.expander("Chart", expanded=True, icon=":material/bar_chart:"):
        kinds = ["line", "bar", "scatter"]
        k1, k2, k3 = st.columns(3)
        kind = k1.radio(
            "Chart", kinds, index=kinds.index(guess[0]), horizontal=True, key="sql_chart_kind"
        )
        x = k2.selectbox("x", frame.columns, index=frame.columns.index(guess[1]), key="sql_chart_x")
        numeric = [c for c, t in frame.schema.items() if t.is_numeric()]
        y = k3.selectbox("y", numeric, index=numeric.index(guess[2]), key="sql_chart_y")
        st.plotly_chart(ui.chart(frame, kind, x, y), key="sql_chart")


def history_block() -> None:
    """The last 20 queries, each with a button that loads and runs it again."""
    entries = history()
    if not entries:
        return
    with st.expander(f"Query history ({len(entries)})", icon=":material/history:"):
        for i, entry in enumerate(entries[:20]):
            h1, h2 = st.columns([5, 1], vertical_alignment="center")
            rows = "error" if entry["rows"] is None else f"{entry['rows']:,} rows"
            h1.code(str(entry["sql"]), language="sql")
            h2.button(
                f"Rerun ({rows})", key=f"sql_hist_{i}", on_click=rerun, args=(str(entry["sql"]),)
            )
