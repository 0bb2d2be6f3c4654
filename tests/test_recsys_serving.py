"""recsys.serving: a server's background reload publishes a state with nothing left to build."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys import serving
from tests.conftest import copy_warehouse


@pytest.fixture()
def stale_ok() -> Iterator[None]:
    serving.serve_stale_while_reloading(True)
    yield
    serving.serve_stale_while_reloading(False)


def test_a_reload_after_a_refresh_serves_the_old_state_then_a_warm_new_one(
    trained_demo_master: Path, tmp_path: Path, stale_ok: None
) -> None:
    db = copy_warehouse(trained_demo_master, tmp_path / "demo.duckdb")
    old = serving.serving_state(db)
    st = os.stat(db)
    os.utime(db, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a new generation
    assert serving.serving_state(db) is old  # answered at once, from the previous state
    deadline = time.monotonic() + 120
    new = old
    while new is old and time.monotonic() < deadline:
        time.sleep(0.2)
        new = serving.serving_state(db)
    assert new is not old, "the background reload did not publish within 120 s"
    built = new.__dict__
    assert {"ranker", "index", "descriptions"} <= built.keys()
    assert new.rank_model is not None
    assert "ranker-tables" in new.data._cache  # the first basket no longer builds them
