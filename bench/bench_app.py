"""App speed in a real browser: Debian's headless Chromium (Playwright) against `streamlit run`.

Measures, on one server per checkout, the first render of every page (a new browser session
landing on the page's URL until the script has finished and nothing is loading; the pages are
opened one after the other in one new browser context, so Overview, the first, alone pays for
fetching and compiling the front end's static files, plotly.js among them, and is opened once more
at the end: "page: Overview (static files cached)", the like-for-like row), every page
reached through its sidebar link in the already-open app ("navigate: <page>", what a user does
after the first page: the front end is loaded, only the page's script runs) and the main
interactions (filter change, customer search, export format switch, bulk list, order approval,
tab switches) until the rerun they cause has finished. Round 1 follows the server's start (cold
caches); later rounds are new sessions on the warm server. The 1 s target is printed beside.
Compare two checkouts in one run (the same demo warehouse, back to back):

    PYTHONPATH=$PWD .venv/bin/python bench/bench_app.py --db /tmp/app/demo.duckdb \\
        --repo /tmp/app/before --repo . --rounds 3 --shots /tmp/app/shots

This checkout only (the command of the issue-18 section of docs/BENCHMARKS.md; the table's
header prints the load average before and after):

    .venv/bin/python bench/bench_app.py --db /tmp/app/demo1.duckdb --rounds 3

"n/a" marks an interaction the checkout does not have. `--returning` adds, beside the
new-context rows, "returning user" rows: every page opened in one browser context kept across
rounds (Streamlit's static files in its HTTP cache after round 1). Needs /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: url path -> h1 of the page ("" is the default page).
PAGES: dict[str, str] = {
    "": "Overview",
    "sales-explorer": "Sales explorer",
    "forecast": "Forecasts",
    "stock": "Inventory",
    "recommend": "Recommendations",
    "sql-workbench": "SQL workbench",
    "data-models": "Data & models",
}
TARGET_S = 1.0
TIMEOUT_MS = 180_000
#: Records every change of Streamlit's script state (data-test-script-state on stApp).
OBSERVER = """() => {
  window.__runs = [];
  const app = document.querySelector('[data-testid="stApp"]');
  new MutationObserver(() => window.__runs.push(
      [performance.now(), app.getAttribute('data-test-script-state')]))
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
SETTLED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stSkeleton"]')
    && !document.querySelector('[data-testid="stStatusWidget"]');
}"""


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(repo: Path, db: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`repo`'s app on 127.0.0.1 (sign-in off, no file watcher): through its launcher
    `python -m pages._serve` where it has one, else `streamlit run app.py` (older checkouts)."""
    port = free_port()
    launcher = ["pages._serve"] if (repo / "pages" / "_serve.py").exists() else []
    serve = launcher or ["streamlit", "run", str(repo / "app.py")]
    env = {**os.environ, "SHELFWISE_DB": str(db), "SHELFWISE_AUTH": "0", "PYTHONPATH": str(repo)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            *serve,
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=repo,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"{repo}: streamlit did not start; see {log}")


def first_render(page, base: str, path: str, title: str) -> float:
    """Seconds from navigating to the page's URL until its script has finished."""
    start = time.perf_counter()
    page.goto(f"{base}/{path}")
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=50)
    elapsed = time.perf_counter() - start
    page.evaluate(OBSERVER)
    return elapsed


def navigate(page, title: str) -> float:
    """Seconds from clicking the sidebar link of page `title` in the open app until that page's
    heading is shown and its script has finished (nothing loading)."""
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=50)
    link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first
    start = time.perf_counter()
    link.click()
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=20)
    return time.perf_counter() - start


def timed(page, action: Callable[[], None]) -> float:
    """Seconds from `action` until the rerun it caused has finished (0.0 + UI time if none).

    The clock starts on a settled page: a rerun still going from the previous action (one that
    started more than 1.5 s after it) is waited for first, not counted, and not clicked into.
    """
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=50)
    page.evaluate("() => { window.__runs = []; }")
    start = time.perf_counter()
    action()
    try:  # a rerun starts within 1.5 s of the action, or there is none
        page.wait_for_function(
            "() => window.__runs.some(r => r[1] === 'running')", timeout=1500, polling=20
        )
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: nothing ran on the server
        return time.perf_counter() - start
    page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=20)
    return time.perf_counter() - start


def visible(page, testid: str, text: str):
    """The first visible element of `testid` containing `text`."""
    return (
        page.locator(f'[data-testid="{testid}"]').filter(has_text=text).filter(visible=True).first
    )


#: Clicks each `pick` needed to open its list, in order (a retry is inside the timed window).
CLICKS: list[int] = []


def pick(page, testid: str, text: str, option: str | None, attempts: int = 3) -> None:
    """Open the select box labelled `text` and choose `option` (None: the first option); a
    click that opened no list within 3 s (the box re-rendered under it) is repeated,
    `attempts` at most; the clicks used are appended to `CLICKS`."""
    options = page.get_by_role("option")
    wanted = options.first if option is None else options.filter(has_text=option).first
    for attempt in range(attempts):
        visible(page, testid, text).click()
        try:
            wanted.wait_for(state="visible", timeout=3_000)
            CLICKS.append(attempt + 1)
            break
        except Exception:  # playwright's TimeoutError: the list did not open (re-raised last)
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
            page.wait_for_function(SETTLED, timeout=TIMEOUT_MS, polling=50)
    wanted.click()
    page.keyboard.press("Escape")


def interactions(page, base: str) -> dict[str, float | None]:
    """The main interactions of a manager's and a merchandiser's morning, in order."""
    out: dict[str, float | None] = {}
    first_render(page, base, "recommend", "Recommendations")
    page.get_by_label("Search customer id").fill("C001")
    out["customer search"] = timed(page, lambda: page.keyboard.press("Enter"))
    out["tab: Bulk list"] = timed(page, lambda: page.get_by_role("tab", name="Bulk list").click())
    out["bulk list (build)"] = timed(page, lambda: page.get_by_text("Build the list").click())
    # below the preview grid: a user scrolls to it first (a click that scrolls the page closes
    # the list it opens), so the scroll is not timed
    visible(page, "stSelectbox", "Format").scroll_into_view_if_needed()
    out["export format -> Excel"] = timed(
        page, lambda: pick(page, "stSelectbox", "Format", "Excel")
    )
    out["export format -> Excel (clicks to open)"] = CLICKS[-1]
    out["tab: Customer"] = timed(page, lambda: page.get_by_role("tab", name="Customer").click())
    box = page.get_by_label("Search customer id")
    box.fill("C002")
    out["customer search (Excel chosen)"] = timed(page, lambda: box.press("Enter"))
    first_render(page, base, "stock", "Inventory")
    approve = page.get_by_role("button", name="Approve order")
    out["order approval"] = timed(page, approve.click) if approve.count() else None
    first_render(page, base, "", "Overview")
    out["filter change (store)"] = timed(page, lambda: pick(page, "stMultiSelect", "Stores", None))
    out["filter change (clicks to open)"] = CLICKS[-1]
    return out


def bench(
    repo: Path, db: Path, rounds: int, shots: Path | None, returning: bool = False
) -> dict[str, list[float | None]]:
    """Every page's first render and every interaction, `rounds` times, on a fresh server.

    `returning`: besides (never instead of) the new-context first renders, every page is also
    opened in one browser context kept across rounds (its HTTP cache holds Streamlit's static
    files after round 1), as a returning user's browser would; rows "returning user: <page>".
    """
    from playwright.sync_api import sync_playwright

    log = Path(tempfile.gettempdir()) / f"shelfwise-bench-app-{repo.name}.log"
    proc, base = start_server(repo, db, log)
    results: dict[str, list[float | None]] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            kept = browser.new_context(viewport={"width": 1400, "height": 1000})
            for round_no in range(rounds):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                for path, title in PAGES.items():
                    seconds = first_render(page, base, path, title)
                    results.setdefault(f"page: {title}", []).append(seconds)
                    if shots and round_no == rounds - 1:
                        shots.mkdir(parents=True, exist_ok=True)
                        page.wait_for_timeout(800)  # plotly draws after the script
                        page.screenshot(
                            path=str(shots / f"{path or 'overview'}.png"), full_page=True
                        )
                # Overview again, its static files now cached like the pages after it: the row
                # above is the first page of a new browser (Streamlit's JS and plotly.js fetched
                # and compiled), which any first page pays (docs/BENCHMARKS.md, session 25)
                seconds = first_render(page, base, "", PAGES[""])
                results.setdefault(f"page: {PAGES['']} (static files cached)", []).append(seconds)
                # the open app (on the last page): every other page through its sidebar link,
                # Overview last (from Data & models)
                for title in [*list(PAGES.values())[1:], PAGES[""]]:
                    results.setdefault(f"navigate: {title}", []).append(navigate(page, title))
                context.close()
                if returning:
                    page = kept.new_page()
                    for path, title in PAGES.items():
                        seconds = first_render(page, base, path, title)
                        results.setdefault(f"returning user: {title}", []).append(seconds)
                    page.close()
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                for name, seconds in interactions(context.new_page(), base).items():
                    results.setdefault(name, []).append(seconds)
                context.close()
            kept.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return results


def cell(values: list[float | None], first: bool) -> str:
    """Round 1, or the median of later rounds, in seconds."""
    vals = values[:1] if first else values[1:] or values[:1]
    if any(v is None for v in vals):
        return "n/a"
    return f"{statistics.median(v for v in vals if v is not None):.2f}"


def main() -> None:
    """Run every checkout back to back and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=os.environ.get("SHELFWISE_DB", "data/shelfwise.duckdb"))
    parser.add_argument(
        "--repo", action="append", type=Path, help="checkout to run (repeatable; default: .)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shots", type=Path, help="screenshots of every page (last checkout)")
    parser.add_argument(
        "--returning",
        action="store_true",
        help="also every page in one browser context kept across rounds (cached static files)",
    )
    args = parser.parse_args()
    db = Path(args.db).resolve()
    repos: list[Path] = args.repo or [Path(".")]
    load_before = os.getloadavg()
    runs = {}
    for i, repo in enumerate(repos):
        shots = args.shots if i == len(repos) - 1 else None
        runs[repo] = bench(repo.resolve(), db, args.rounds, shots, args.returning)
    print(
        f"App in headless Chromium, {db.name}; seconds; round 1 after the server's start, "
        f"then the median of {args.rounds - 1} later rounds (new sessions); target "
        f"{TARGET_S:.0f} s; load average {load_before[0]:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs)"
    )
    names = list(next(iter(runs.values())))
    for other in runs.values():
        names += [n for n in other if n not in names]
    head = (
        "| measure | "
        + " | ".join(f"{r.resolve().name} first | {r.resolve().name} warm" for r in runs)
        + " |"
    )
    print(head)
    print("|" + " --- |" * (1 + 2 * len(runs)))
    for name in names:
        cells = []
        for result in runs.values():
            values = result.get(name, [None])
            cells += [cell(values, True), cell(values, False)]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
