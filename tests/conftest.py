"""Shared fixtures: small real DuckDB warehouses built by the real code, and the shared data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.demo import DemoConfig, build_demo

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "tests" / "data"
SHARED_DATA = Path(os.environ.get("SHELFWISE_SHARED_DATA", REPO.parent / "shared" / "data"))
ONLINE_RETAIL = SHARED_DATA / "online-retail-ii-2009-2010" / "online_retail_II.parquet"
STORE_ITEM = SHARED_DATA / "store-item-demand" / "demand-forecasting-kernels-only.zip"

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
