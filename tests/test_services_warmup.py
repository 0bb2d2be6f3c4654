"""The server's start-up warm-up (services.warmup): loads the model, never fails the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys import lists
from recsys import service as recsys_service
from services.warmup import WARMUP_ENV, warm_in_background, warm_recommendations


def test_warm_up_loads_the_serving_state(trained_demo_master: Path) -> None:
    assert warm_recommendations(trained_demo_master) is True
    state = recsys_service.serving_state(trained_demo_master)
    assert "index" in state.__dict__  # the lazily built parts are built
    assert state.rank_model is not None
    assert "ranker-tables" in state.data._cache  # a first basket builds nothing
    customer = state.data.user_ids[0]
    assert recsys_service.recommend_for_customer(trained_demo_master, customer, 5).height == 5


def test_warm_up_without_a_model_says_no_and_does_not_raise(demo_db: Path) -> None:
    assert warm_recommendations(demo_db) is False


def test_warm_up_runs_in_a_daemon_thread_unless_turned_off(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    thread = warm_in_background(demo_db)
    assert thread is not None and thread.daemon
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert lists._BACKGROUND  # a server ranks everyone behind its first requests
    lists.rank_in_background(False)  # back to the command-line default for later tests
    monkeypatch.setenv(WARMUP_ENV, "0")
    assert warm_in_background(demo_db) is None
