"""A real browser: Debian's headless Chromium, driven by Playwright, against the app served as
`make run` serves it (`python -m pages._serve`, i.e. `streamlit run app.py`).

Visits every page, checks that no error box is shown, and saves a screenshot of each page under
artifacts/browser/. A second run with sign-in on checks a viewer's navigation in the browser.
Skips when /usr/bin/chromium is missing (`make browser` installs it).
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.auth import add_user
from tests.conftest import HEAVY, copy_warehouse

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "artifacts" / "browser"
#: url path -> page title, as registered in app.py.
PAGES: dict[str, str] = {
    "": "Overview",  # the default page lives at the root
    "sales-explorer": "Sales explorer",
    "forecast": "Forecasts",
    "stock": "Inventory",
    "recommend": "Recommendations",
    "sql-workbench": "SQL workbench",
    "data-models": "Data & models",
}
#: The first request of a fresh server: a deep link, which showed "Page not found" when the
#: server was a bare `streamlit run app.py` (pages/ taken for Streamlit's legacy folder; issue 18).
DEEP_LINK = "forecast"
#: Old or guessable links (hidden aliases in pages._navigation) -> the page they open.
ALIASES: dict[str, str] = {"forecasts": "Forecasts", "dashboard": "Overview"}
STARTUP_TIMEOUT_S = 90
RUN_TIMEOUT_MS = 90_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(db: Path, env_extra: dict[str, str], address: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SHELFWISE_DB": str(db), **env_extra}
    log = open(REPO / "artifacts" / f"streamlit-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pages._serve",
            "--server.address",
            address,
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"streamlit did not answer within {STARTUP_TIMEOUT_S} s")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} missing: install Debian's chromium (`make browser`)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def served(request: pytest.FixtureRequest, demo_db_master: Path) -> Iterator[str]:
    env_extra, address = request.param
    (REPO / "artifacts").mkdir(exist_ok=True)
    if "SHELFWISE_USERS" in env_extra:
        env_extra = {**env_extra, "SHELFWISE_USERS": str(demo_db_master.parent / "users.toml")}
        add_user("vera", "viewer", "viewer-password", Path(env_extra["SHELFWISE_USERS"]))
    proc, base = start_app(demo_db_master, env_extra, address)
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_until_rendered(page, title: str) -> None:
    """Wait for the page's h1 and for Streamlit to stop running the script."""
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=RUN_TIMEOUT_MS
    )
    page.wait_for_load_state("networkidle", timeout=RUN_TIMEOUT_MS)  # lazy widget code
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=RUN_TIMEOUT_MS
    )
    page.wait_for_timeout(1000)  # let plotly finish drawing before the screenshot


@pytest.mark.parametrize("served", [({"SHELFWISE_AUTH": "0"}, "127.0.0.1")], indirect=True)
def test_every_page_renders_without_an_error_box(browser, served: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page = new_page(browser)
    failures: list[str] = []
    for url_path in (DEEP_LINK, *(p for p in PAGES if p != DEEP_LINK)):  # fresh server: deep link
        title = PAGES[url_path]
        page.goto(f"{served}/{url_path}")
        wait_until_rendered(page, title)
        errors = page.locator('[data-testid="stException"]')
        if errors.count():
            failures.append(f"{url_path}: {errors.first.inner_text()[:300]}")
        if page.get_by_text("Page not found").count():
            failures.append(f"/{url_path}: page not found")
        page.screenshot(path=str(SCREENSHOTS / f"{url_path or 'overview'}.png"), full_page=True)
    for alias, title in ALIASES.items():
        page.goto(f"{served}/{alias}")
        wait_until_rendered(page, title)
        if page.get_by_text("Page not found").count():
            failures.append(f"/{alias}: page not found")
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    context.close()
    assert not failures, failures
    assert all(title in nav for title in PAGES.values())


@pytest.mark.heavy  # a second server start; the AppTest sign-in tests cover the same by default
@pytest.mark.skipif(not HEAVY, reason="second server start; SHELFWISE_HEAVY=1 runs it")
@pytest.mark.parametrize(
    "served", [({"SHELFWISE_USERS": "", "SHELFWISE_AUTH": ""}, "0.0.0.0")], indirect=True
)
def test_signin_in_the_browser_limits_a_viewer(browser, served: str) -> None:
    context, page = new_page(browser)
    page.goto(f"{served}/{DEEP_LINK}")  # a deep link signed out: sign in, then that page
    wait_until_rendered(page, "Sign in to Shelfwise")
    assert not page.get_by_text("Page not found").count()
    page.get_by_role("textbox", name="User name").fill("vera")
    page.get_by_role("textbox", name="Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong user name or password").wait_for(timeout=RUN_TIMEOUT_MS)
    page.get_by_role("textbox", name="Password").fill("viewer-password")
    page.get_by_role("button", name="Sign in").click()
    wait_until_rendered(page, PAGES[DEEP_LINK])
    assert not page.get_by_text("Page not found").count()
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Forecasts" in nav and "SQL workbench" not in nav and "Data & models" not in nav
    page.screenshot(path=str(SCREENSHOTS / "signed-in-viewer.png"), full_page=True)
    context.close()


@pytest.fixture(scope="module")
def models_db(outputs_demo_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with a (one-epoch) recommendation model, a forecast, and a reorder plan
    and simulation from the pipeline's inventory steps (a private copy: approving writes)."""
    from services.pipeline import steps

    db = copy_warehouse(
        outputs_demo_master, tmp_path_factory.mktemp("browser-models") / "demo.duckdb"
    )
    for step in steps("inventory"):
        step.run(db, False)
    return db


@pytest.fixture(scope="module")
def served_models(models_db: Path) -> Iterator[str]:
    (REPO / "artifacts").mkdir(exist_ok=True)
    proc, base = start_app(models_db, {"SHELFWISE_AUTH": "0"}, "127.0.0.1")
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def new_page(browser, downloads: bool = False):
    """A page in a new browser context whose every action waits at most RUN_TIMEOUT_MS (a click
    on a widget of a rerun still computing on a loaded 2-core box may need more than
    Playwright's default 30 s; issue 18's flake). Returns (context, page)."""
    context = browser.new_context(
        viewport={"width": 1400, "height": 1000}, accept_downloads=downloads
    )
    context.set_default_timeout(RUN_TIMEOUT_MS)
    return context, context.new_page()


def settle(page) -> None:
    """Wait until Streamlit has finished the rerun an action caused."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        ".getAttribute('data-test-script-state') === 'notRunning'",
        timeout=RUN_TIMEOUT_MS,
    )


def pick_first_option(page, label: str, attempts: int = 3) -> str:
    """Choose the first real option (Streamlit lists "Select all" first) of the multiselect
    labelled `label` and return its text, once the box shows it as chosen. A late rerun can
    close the dropdown between seeing the option and clicking it (the flake of issue 18 on a
    loaded box): then the dropdown is opened again, at most `attempts` times."""
    box = page.locator('[data-testid="stMultiSelect"]').filter(has_text=label)
    option = page.get_by_role("option").filter(has_not_text="Select all").first
    for attempt in range(attempts):
        try:
            box.click(timeout=10_000)
            option.wait_for(state="visible", timeout=10_000)
            text = option.inner_text(timeout=10_000).strip()
            option.click(timeout=10_000)
            box.get_by_text(text, exact=True).wait_for(timeout=10_000)  # the chosen chip
            page.keyboard.press("Escape")
            return text
        except Exception:  # a playwright timeout: the dropdown closed or the click was lost
            if attempt == attempts - 1:
                raise
            page.keyboard.press("Escape")
            settle(page)
    raise AssertionError("unreachable")


def open_from_the_sidebar(page, base: str, title: str) -> None:
    """Open the app at its root and click `title` in the sidebar, as a user does."""
    page.goto(base)
    wait_until_rendered(page, "Overview")
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    wait_until_rendered(page, title)
    assert not page.get_by_text("Page not found").count()


def selected(grid, col: int, row: int = 0):
    """The grid's cell (`col`, `row`) once glide has selected it (its accessibility table, in the
    DOM, marks the selection; it is updated a moment after the click or key)."""
    return grid.locator(f'[data-testid="glide-cell-{col}-{row}"][aria-selected="true"]')


def select_cell(page, grid, col: int, attempts: int = 3) -> None:
    """Select the grid's first line at column `col`: click its first cell, then ArrowRight, and
    wait for glide to take each step before the next. Keys pressed before the grid has taken the
    click are lost (the flake of issue 18: Enter then opened no editor); a click the grid did not
    take (still laying out) is repeated, at most `attempts` times."""
    for attempt in range(attempts):
        grid.scroll_into_view_if_needed()
        box = grid.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + 40, box["y"] + 35 + 17)  # first line, first column
        try:
            selected(grid, 0).wait_for(state="attached", timeout=10_000)
            break
        except Exception:  # the grid did not take the click (a playwright timeout): again
            if attempt == attempts - 1:
                raise
            settle(page)
    for step in range(1, col + 1):
        page.keyboard.press("ArrowRight")
        selected(grid, step).wait_for(state="attached", timeout=RUN_TIMEOUT_MS)


def test_order_review_edit_approve_and_download(
    browser, served_models: str, tmp_path: Path
) -> None:
    context, page = new_page(browser, downloads=True)
    open_from_the_sidebar(page, served_models, "Inventory")
    grid = page.locator('[data-testid="stDataFrame"]').last
    select_cell(page, grid, 2)  # the editable "Order qty" column
    page.keyboard.press("Enter")  # opens the cell's editor
    editor = page.locator("input.gdg-input")
    editor.wait_for(timeout=RUN_TIMEOUT_MS)
    editor.fill("7")
    editor.press("Enter")  # commits the edit and closes the editor
    editor.wait_for(state="detached", timeout=RUN_TIMEOUT_MS)
    # the grid's accessibility table (hidden, in the DOM) holds the first line's new quantity
    edited = grid.locator('[data-testid="glide-cell-2-0"]', has_text=re.compile(r"^7$"))
    edited.wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
    settle(page)
    page.get_by_role("button", name="Approve order").click()
    note = page.get_by_text(re.compile(r"Order PO-\S+ approved"))
    note.wait_for(timeout=RUN_TIMEOUT_MS)
    order = note.inner_text().split()[1]
    settle(page)
    with page.expect_download(timeout=RUN_TIMEOUT_MS) as info:
        page.get_by_role("button", name="Purchase order (CSV)").click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    lines = path.read_text().splitlines()
    page.screenshot(path=str(SCREENSHOTS / "order-approved.png"), full_page=True)
    context.close()
    assert info.value.suggested_filename == f"{order}.csv"
    assert lines[0] == (
        "supplier,order_number,store_id,line,product_id,description,quantity,unit_cost,line_value"
    )
    supplier = "-".join(order.split("-")[2:-1])  # PO-<date>-<supplier>-<store>
    assert lines[1].startswith(f"{supplier},{order},") and lines[1].split(",")[6] == "7"
    assert "ORDER TOTAL" in lines[-1]


def test_similar_products_follow_the_rules_in_the_browser(
    browser, served_models: str, tmp_path: Path
) -> None:
    context, page = new_page(browser, downloads=True)
    open_from_the_sidebar(page, served_models, "Recommendations")
    page.get_by_role("tab", name="Similar products").click()
    export = page.get_by_role("button", name="Export (CSV)")
    export.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)  # the tab's first list is drawn
    settle(page)
    page.get_by_text("Business rules (apply to every tab)").click()
    category = pick_first_option(page, "Only these categories")
    page.wait_for_timeout(1000)  # the rerun the choice starts may begin late on a loaded box
    settle(page)
    export.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)  # the rerun under the rule
    with page.expect_download(timeout=RUN_TIMEOUT_MS) as info:
        export.click()
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    rows = list(csv.DictReader(path.open()))
    page.screenshot(path=str(SCREENSHOTS / "similar-rules.png"), full_page=True)
    context.close()
    assert info.value.suggested_filename.startswith("similar_to_")
    assert rows and {row["category"] for row in rows} == {category}
    assert [int(row["rank"]) for row in rows] == list(range(1, len(rows) + 1))
