"""Where a page's first render goes in a real browser: a breakdown of `bench_app.py`'s number.

For each page (and for a bare one-line Streamlit page, the framework's floor on this machine)
a new browser session lands on the page's URL, with an empty HTTP cache ("empty") and again in
the same browser context ("cached": a returning user). Chromium's own clocks (performance.now(),
resource timing, long tasks) split the time into:

- `html`: the document's response end; `js`: the static files (count, MB, last response end);
- `ws open` / `1st msg` / `last msg`: the websocket opened, the first and the last message of the
  script run (first to last message ~ the script's run on the server, as streamed);
- `h1` / `plotly` / `grid`: the title drawn, every plotly chart drawn (its SVG), every data grid
  drawn (its canvas); `settled`: what `bench_app.py` waits for (script not running, no skeleton);
- `busy`: main-thread long tasks (> 50 ms) before `settled` (parse, compile, render), ms.

The server's caches are warmed first (one visit per page), as in `bench_app.py`'s later rounds.

    PYTHONPATH=$PWD .venv/bin/python bench/profile_app_render.py --db /tmp/app/demo.duckdb

Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_app import ARGS, CHROMIUM, PAGES, SETTLED, TIMEOUT_MS, start_server

#: Records websocket events, script-state changes, long tasks and when elements first appear.
PROBE = """(() => {
  const T = window.__prof = {ws: [], states: [], marks: {}, long: []};
  const Orig = window.WebSocket;
  const Probe = function (...args) {
    const ws = new Orig(...args);
    T.ws.push(['create', performance.now(), 0]);
    ws.addEventListener('open', () => T.ws.push(['open', performance.now(), 0]));
    ws.addEventListener('message', (e) => T.ws.push(
      ['msg', performance.now(), e.data.byteLength || e.data.size || e.data.length || 0]));
    return ws;
  };
  Probe.prototype = Orig.prototype;
  Object.assign(Probe, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Probe;
  new PerformanceObserver((list) => list.getEntries().forEach(
    (e) => T.long.push([e.startTime, e.duration]))).observe({type: 'longtask', buffered: true});
  const all = (outer, inner) => {
    const els = document.querySelectorAll(outer);
    return els.length > 0 && [...els].every((el) => el.querySelector(inner));
  };
  const check = () => {
    const now = performance.now();
    const seen = {
      h1: () => document.querySelector('h1'),
      plotly: () => all('[data-testid="stPlotlyChart"]', '.main-svg'),
      grid: () => all('[data-testid="stDataFrame"]', 'canvas'),
    };
    for (const [key, test] of Object.entries(seen)) if (test()) T.marks[key] = T.marks[key] || now;
    for (const key of ['plotly', 'grid']) if (T.marks[key] && !seen[key]()) delete T.marks[key];
    const app = document.querySelector('[data-testid="stApp"]');
    const state = app && app.getAttribute('data-test-script-state');
    const last = T.states[T.states.length - 1];
    if (state && (!last || last[1] !== state)) T.states.push([now, state]);
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true,
    attributes: true, attributeFilter: ['data-test-script-state']});
})();"""
COLLECT = """() => {
  const T = window.__prof, nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const js = res.filter((r) => r.name.endsWith('.js'));
  const msgs = T.ws.filter((w) => w[0] === 'msg');
  const open = T.ws.find((w) => w[0] === 'open');
  return {
    html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd,
    js_n: js.length, js_mb: js.reduce((s, r) => s + r.encodedBodySize, 0) / 1e6,
    js_net: js.reduce((s, r) => s + r.transferSize, 0) / 1e6,
    js_end: Math.max(0, ...js.map((r) => r.responseEnd)),
    plotly_js: (js.find((r) => r.name.includes('PlotlyChart')) || {}).responseEnd || null,
    ws_open: open ? open[1] : null, first_msg: msgs.length ? msgs[0][1] : null,
    last_msg: msgs.length ? msgs[msgs.length - 1][1] : null,
    ws_kb: msgs.reduce((s, m) => s + m[2], 0) / 1e3,
    h1: T.marks.h1 || null, plotly: T.marks.plotly || null, grid: T.marks.grid || null,
    long: T.long, states: T.states,
  };
}"""
#: Framework floor pages: (h1, script) served by plain `streamlit run`.
FLOORS: dict[str, str] = {
    "floor: title only": 'import streamlit as st\nst.title("Floor")\n',
    "floor: + 1 plotly chart": (
        "import plotly.graph_objects as go\nimport streamlit as st\n"
        'st.title("Floor")\nst.plotly_chart(go.Figure(go.Bar(x=[1, 2, 3], y=[3, 1, 2])))\n'
    ),
    "floor: + 1 altair chart": (
        "import altair as alt\nimport pandas as pd\nimport streamlit as st\n"
        'st.title("Floor")\ndf = pd.DataFrame({"x": [1, 2, 3], "y": [3, 1, 2]})\n'
        'st.altair_chart(alt.Chart(df).mark_bar().encode(x="x", y="y"))\n'
    ),
    "floor: + 1 dataframe": (
        'import streamlit as st\nst.title("Floor")\nst.dataframe({"a": [1, 2, 3]})\n'
    ),
}
COLUMNS = ["html", "js_end", "ws_open", "first_msg", "last_msg", "h1", "plotly", "grid", "settled"]


def sample(context: Any, url: str, title: str) -> dict[str, Any]:
    """One visit of `url` in `context`: Chromium's clocks (ms from navigation start)."""
    page = context.new_page()
    page.add_init_script(PROBE)
    page.goto(url)
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=20)
    settled = page.evaluate("() => performance.now()")
    page.wait_for_timeout(1500)  # plotly and grids draw after the script; `settled` is the bar
    out: dict[str, Any] = page.evaluate(COLLECT)
    out["settled"] = settled
    out["busy"] = sum(d for s, d in out.pop("long") if s < settled)
    page.close()
    return out


def profile(repo: Path, db: Path, paths: dict[str, str], samples: int) -> dict[str, list[dict]]:
    """Per page: `samples` empty-cache visits, then `samples` cached visits, warm server."""
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.gettempdir()) / f"shelfwise-profile-{repo.name}.log"
    proc, base = start_server(repo, db, log)
    found: dict[str, list[dict]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for path, title in paths.items():  # warm the server's caches, not measured
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                sample(context, f"{base}/{path}", title)
                context.close()
            for path, title in paths.items():
                for mode in ("empty", "cached"):
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    if mode == "cached":  # the returning user: the static files are cached
                        sample(context, f"{base}/{path}", title)
                    for _ in range(samples):
                        if mode == "empty":
                            context.close()
                            context = browser.new_context(viewport={"width": 1400, "height": 1000})
                        row = sample(context, f"{base}/{path}", title)
                        found.setdefault(f"{title} ({mode})", []).append(row)
                    context.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return found


def floors(db: Path, samples: int) -> dict[str, list[dict]]:
    """The framework floor: one-line pages served by `streamlit run` on this machine."""
    found: dict[str, list[dict]] = {}
    for name, script in FLOORS.items():
        folder = Path(tempfile.mkdtemp(prefix="shelfwise-floor-"))
        (folder / "app.py").write_text(script)
        for key, rows in profile(folder, db, {"": "Floor"}, samples).items():
            found[f"{name} ({key.split('(')[1]}"] = rows
    return found


def show(found: dict[str, list[dict]]) -> None:
    """One line per page and mode: the median of the samples, ms from navigation start."""
    head = f"{'page (cache)':34}" + "".join(f"{c:>9}" for c in COLUMNS)
    print(head + f"{'busy':>7}{'js n':>6}{'js MB':>7}{'ws kB':>7}")
    for name, rows in found.items():

        def med(key: str, rows: list[dict] = rows) -> float | None:
            vals = [r[key] for r in rows if r[key] is not None]
            return statistics.median(vals) if vals else None

        cells = "".join(f"{'-':>9}" if med(c) is None else f"{med(c):9.0f}" for c in COLUMNS)
        print(
            f"{name:34}{cells}{med('busy'):7.0f}{med('js_n'):6.0f}{med('js_mb'):7.2f}"
            f"{med('ws_kb'):7.0f}"
        )


def main() -> None:
    """Profile the app's pages and the framework floor; print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("SHELFWISE_DB", "data/shelfwise.duckdb"))
    parser.add_argument("--repo", type=Path, default=Path("."))
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--page", action="append", help="url path(s) to profile (default: all)")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--floor-only", action="store_true")
    args = parser.parse_args()
    db = Path(args.db).resolve()
    paths = {p: PAGES[p] for p in args.page} if args.page else PAGES
    load = os.getloadavg()[0]
    start = time.monotonic()
    found = {} if args.no_floor else floors(db, args.samples)
    if not args.floor_only:
        found |= profile(args.repo.resolve(), db, paths, args.samples)
    print(
        f"Median of {args.samples} visits per row, ms from navigation start, warm server; "
        f"load average {load:.2f} before, {os.getloadavg()[0]:.2f} after "
        f"({time.monotonic() - start:.0f} s)"
    )
    show(found)


if __name__ == "__main__":
    main()
