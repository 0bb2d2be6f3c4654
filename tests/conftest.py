"""Shared fixtures: small real DuckDB warehouses built by the real code, and the shared data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.demo import DemoConfig, build_demo
from warehouse.ingest.sales_panel import PanelColumns, ingest_args

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "tests" / "data"
SHARED_DATA = Path(os.environ.get("SHELFWISE_SHARED_DATA", REPO.parent / "shared" / "data"))
ONLINE_RETAIL = SHARED_DATA / "online-retail-ii-2009-2010" / "online_retail_II.parquet"
STORE_ITEM = SHARED_DATA / "store-item-demand" / "demand-forecasting-kernels-only.zip"
STORE_ITEM_SAMPLE = SAMPLES / "store_item_sample.csv"

#: `make test-heavy` sets this to run the full-size variants of the `heavy` tests.
HEAVY = os.environ.get("SHELFWISE_HEAVY") == "1"


@pytest.fixture(scope="session")
def demo_db_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo warehouse (scale 0.1: 2 stores, 100 products, 2,000 customers, 730 days).

    Built once per session; tests that write must use `demo_db` (a private copy).
    """
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, DemoConfig(scale=0.1, seed=7))
    return path


@pytest.fixture()
def demo_db(demo_db_master: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the small demo warehouse."""
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db_master, path)
    return path


def copy_warehouse(source: Path, target: Path) -> Path:
    """Copy a warehouse file and its model artifacts (`models/<stem>/`, when any) to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    models = source.parent / "models" / source.stem
    if models.is_dir():
        shutil.copytree(models, target.parent / "models" / target.stem)
    return target


STORE_ITEM_COLUMNS = PanelColumns("date", "store", "item", "sales")


def ingest_panel(
    db: Path, source: Path = STORE_ITEM_SAMPLE, columns: PanelColumns = STORE_ITEM_COLUMNS
) -> subprocess.CompletedProcess[str]:
    """`python -m warehouse ingest sales-panel` as a separate process (how cron runs it).

    Defaults to the Kaggle store-item sample; asserts the command succeeded and returns it
    (its stdout holds the load report).
    """
    done = subprocess.run(
        [sys.executable, "-m", "warehouse", *ingest_args(db, source, columns)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr
    return done


def _run_cli(db: Path, *args: str) -> None:
    """`python -m <args>` on `db` from the repo root; fails the fixture on a non-zero exit."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "SHELFWISE_DB": str(db)}
    subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        check=True,
        timeout=900,
        env=env,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def trained_demo_master(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with a recommendation model: `python -m recsys train --epochs 1`.

    Built once per session and never written afterwards: tests take a `copy_warehouse` of it.
    """
    db = copy_warehouse(demo_db_master, tmp_path_factory.mktemp("trained") / "demo.duckdb")
    _run_cli(db, "recsys", "--db", str(db), "--quiet", "train", "--epochs", "1")
    return db


@pytest.fixture(scope="session")
def outputs_demo_master(
    trained_demo_master: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The trained demo plus a 14-day forecast run (LightGBM, no Prophet) and a reorder plan,
    made by the real command lines. Never written: tests take a `copy_warehouse` of it."""
    db = copy_warehouse(trained_demo_master, tmp_path_factory.mktemp("outputs") / "demo.duckdb")
    py_db = ["--db", str(db)]
    _run_cli(db, "forecasting", *py_db, "run", "--prophet-series", "0", "--horizon", "14")
    _run_cli(db, "forecasting", *py_db, "plan")
    return db


@pytest.fixture(scope="session")
def store_item_sample_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed store-item sample (6 pairs) through the real CLI ingest, once per session."""
    db = tmp_path_factory.mktemp("si-sample") / "si.duckdb"
    ingest_panel(db, STORE_ITEM_SAMPLE)
    return db


@pytest.fixture()
def store_item_sample_db(store_item_sample_master: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the ingested store-item sample."""
    return copy_warehouse(store_item_sample_master, tmp_path / "si.duckdb")


@pytest.fixture(scope="session")
def store_item_panel_master(
    store_item_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The full store-item panel (500 pairs, 913,000 rows) through the real CLI ingest, once per
    session (skips when the data is absent). Never written: tests take `store_item_panel_db`."""
    db = tmp_path_factory.mktemp("si-full") / "si.duckdb"
    ingest_panel(db, store_item_file)
    return db


@pytest.fixture()
def store_item_panel_db(store_item_panel_master: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the ingested full store-item panel."""
    return copy_warehouse(store_item_panel_master, tmp_path / "si.duckdb")


@pytest.fixture(scope="session")
def online_retail_file() -> Path:
    """The full Online Retail II parquet from ../shared/data (skips when absent)."""
    if not ONLINE_RETAIL.exists():
        pytest.skip(f"{ONLINE_RETAIL} not present")
    return ONLINE_RETAIL


@pytest.fixture(scope="session")
def store_item_file() -> Path:
    """The Kaggle store-item demand zip from ../shared/data (skips when absent)."""
    if not STORE_ITEM.exists():
        pytest.skip(f"{STORE_ITEM} not present")
    return STORE_ITEM


@pytest.fixture()
def loopback_app() -> Iterator[None]:
    """Streamlit's `server.address` set to 127.0.0.1 for AppTest runs, restored afterwards.

    `SHELFWISE_AUTH=0` only turns sign-in off on a loopback address (issue 12).
    """
    from streamlit import config

    old = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", old)


#: Session fixtures too costly to build twice: under pytest-xdist's `--dist loadgroup` every
#: test file that uses one runs on the same worker (each worker builds its own session fixtures).
SHARED_BUILDS = frozenset({"trained_demo_master", "outputs_demo_master"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup`, one xdist group per test file (its module fixtures are built
    once), and one group for every file that uses a fixture in `SHARED_BUILDS`."""
    if config.getoption("dist", default="no") != "loadgroup":
        return
    files = {item.nodeid.split("::")[0] for item in items}
    shared = {
        item.nodeid.split("::")[0] for item in items if SHARED_BUILDS & set(item.fixturenames)
    }
    groups = {
        path: "demo-outputs" if path in shared else path.removesuffix(".py") for path in files
    }
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid.split("::")[0]]))
