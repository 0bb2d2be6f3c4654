"""Scale-out (issue 16): the same answers on a real local Ray runtime, retries, atomic failures,
and the two-tower trained by torch DDP in 2 processes.

One Ray runtime for the module (2 CPUs, 127.0.0.1 only, no dashboard), shut down at the end;
the Ray tests skip when the `ray` extra is not installed. Chunk sizes are shrunk so that the
small demo spans several chunks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from forecasting import cli as forecasting_cli
from forecasting import engine as engine_module
from forecasting.data import load_panel
from forecasting.engine import EngineConfig, forecast_panel
from forecasting.inventory import sampling
from forecasting.models.lgbm import LightGBMGlobal
from recsys.batch import bulk_frame
from recsys.manifest import latest_manifest
from recsys.refresh import train_and_register
from recsys.registry import load_latest
from recsys.service import BusinessRules, serving_state
from recsys.train import TwoTowerConfig
from tests.conftest import HEAVY, REPO
from warehouse.db import query, reading
from warehouse.executors import ExecutorError, RayExecutor, executor_name, open_executor

#: Per-series models (the backtest and simulation test runs only these).
STAT_MODELS = "seasonal_naive,moving_average,croston_sba"
#: `forecasting run`'s comparison adds both global LightGBM variants: trained on the driver,
#: predicted by chunks on the workers from their model strings (3 bags for the median).
RUN_MODELS = f"{STAT_MODELS},lightgbm,lightgbm_median"
#: Forecasts and plans are compared within this tolerance (float64 sums in another order
#: could differ in the last bits; in practice they come out identical).
RTOL, ATOL = 1e-9, 1e-9


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[None]:
    """A local Ray runtime: 2 CPUs, loopback only, no dashboard; shut down after the module."""
    ray = pytest.importorskip("ray")
    # workers import this checkout (and this test module) like the driver does
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), old) if p)
    # the fault-injecting functions below travel by value (pytest imports this file by its name)
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
        configure_logging=False,
    )
    yield
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


def _copy(master: Path, tmp: Path, name: str) -> Path:
    path = tmp / f"{name}.duckdb"
    shutil.copyfile(master, path)
    return path


def _table(db: Path, sql: str) -> pl.DataFrame:
    with reading(db) as con:
        return query(con, sql)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_frames_close(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.columns == b.columns and a.height == b.height > 0
    for col in a.columns:
        if a[col].dtype.is_float():
            np.testing.assert_allclose(
                a[col].to_numpy(), b[col].to_numpy(), rtol=RTOL, atol=ATOL, err_msg=col
            )
        else:
            assert a[col].to_list() == b[col].to_list(), col


def test_executor_choice_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHELFWISE_EXECUTOR", raising=False)
    assert executor_name(None) == "local"
    monkeypatch.setenv("SHELFWISE_EXECUTOR", "ray")
    assert executor_name(None) == "ray"
    assert executor_name("local") == "local"
    monkeypatch.setenv("SHELFWISE_EXECUTOR", "spark")
    with pytest.raises(ExecutorError, match="SHELFWISE_EXECUTOR 'spark'"):
        executor_name(None)


def _small_lightgbm(build: Callable[[str, EngineConfig], LightGBMGlobal]) -> Callable[..., Any]:
    """The engine's LightGBM builder with fewer trees and rows (test runtime; same code)."""

    def small(name: str, cfg: EngineConfig) -> LightGBMGlobal:
        model = build(name, cfg)
        model.config = replace(model.config, n_estimators=40, max_rows=20_000)
        return model

    return small


def test_forecast_run_on_ray_writes_what_local_writes(
    demo_db_master: Path, tmp_path: Path, ray_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("forecasting.fanout.CHUNK_SERIES", 64)  # the demo's 200 series: 4 chunks
    monkeypatch.setattr(engine_module, "_lightgbm", _small_lightgbm(engine_module._lightgbm))
    frames, drivers = [], []
    for engine in ("local", "ray"):
        db = _copy(demo_db_master, tmp_path, engine)
        argv = ["--db", str(db), "--quiet", "run", "--models", RUN_MODELS, "--prophet", "0"]
        assert forecasting_cli.main([*argv, "--executor", engine]) == 0
        frames.append(_table(db, "select * exclude (run_id) from forecasts order by all"))
        drivers.append(_table(db, "select * exclude (run_id) from forecast_drivers order by all"))
    # LightGBM's chunked forecasts are among those compared, and its drivers (on the driver)
    assert frames[1]["model"].str.contains("lightgbm").any()
    _assert_frames_close(*frames)
    _assert_frames_close(*drivers)


def test_plan_on_ray_is_the_plan_of_local(
    demo_db_master: Path, tmp_path: Path, ray_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sampling, "CHUNK_PAIRS", 64)  # several seeded chunks on the demo
    frames = []
    for engine in ("local", "ray"):
        db = _copy(demo_db_master, tmp_path, engine)
        assert forecasting_cli.main(["--db", str(db), "--quiet", "plan", "--executor", engine]) == 0
        frames.append(_table(db, "select * from reorder_plan order by store_id, product_id"))
    _assert_frames_close(*frames)


def _die_on(fn: Callable[[Any], Any], seed: int, item: Any) -> Any:
    if item.seed == seed:
        os._exit(3)  # the worker process dies, as on a lost node
    return fn(item)


class _KillsOneChunk:
    """A real Ray executor whose worker dies on every attempt at one chunk (a fault)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], desc: str = ""
    ) -> Iterator[tuple[int, Any]]:
        yield from RayExecutor(max_retries=1, progress=False).map(
            partial(_die_on, fn, self.seed), items, desc
        )


def test_a_failed_plan_leaves_the_warehouse_byte_identical(
    demo_db_master: Path, tmp_path: Path, ray_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forecasting.inventory.config import PlanConfig
    from forecasting.inventory.plan import run_plan

    monkeypatch.setattr(sampling, "CHUNK_PAIRS", 64)
    db = _copy(demo_db_master, tmp_path, "fail")
    before = _sha256(db)
    seed = int(np.random.default_rng(PlanConfig().seed).integers(0, 2**63 - 1, size=4)[1])
    with pytest.raises(ExecutorError, match="plan sampling chunk 1 failed"):
        run_plan(db, None, PlanConfig(), executor=_KillsOneChunk(seed))
    assert _sha256(db) == before


def _exit_once(marker: str, x: int) -> int:
    if x == 2 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(3)  # first attempt: the worker dies
    return x * x


def test_a_killed_worker_task_is_retried(tmp_path: Path, ray_runtime: None) -> None:
    marker = str(tmp_path / "attempted")
    out = dict(
        RayExecutor(max_retries=2, progress=False).map(partial(_exit_once, marker), [1, 2, 3])
    )
    assert Path(marker).exists()  # the task did die once
    assert out == {0: 1, 1: 4, 2: 9}


@pytest.fixture(scope="module")
def ddp_db(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo with a two-tower trained by DDP in 2 processes (no ranker: the blend)."""
    db = _copy(demo_db_master, tmp_path_factory.mktemp("ddp"), "ddp")
    config = TwoTowerConfig(
        dim=16, epochs=3, max_examples_per_epoch=6_000, batch_size=256, val_days=0,
        show_progress=False,
    )  # fmt: skip
    train_and_register(
        db, until=None, progress=False, config=config, ranker_config=False, workers=2
    )
    return db


def test_ddp_training_in_two_processes_learns_and_the_model_loads(ddp_db: Path) -> None:
    manifest = latest_manifest(ddp_db)
    assert manifest is not None
    losses = [epoch["loss"] for epoch in manifest["metrics"]["epochs"]]
    assert len(losses) == 3 and losses[-1] < losses[0]
    loaded = load_latest(ddp_db)
    assert loaded is not None and loaded.model.net is not None
    state = serving_state(ddp_db)
    scores = state.loaded.model.score(state.data, np.arange(5))
    assert scores.shape == (5, state.data.n_items) and np.isfinite(scores).any()


def test_export_on_ray_gives_the_lists_of_local(ddp_db: Path, ray_runtime: None) -> None:
    state = serving_state(ddp_db)
    rules = BusinessRules()
    local = bulk_frame(state, ddp_db, None, None, 10, rules, batch_size=512)
    on_ray = bulk_frame(
        state, ddp_db, None, None, 10, rules, batch_size=512, executor=RayExecutor(progress=False)
    )
    _assert_frames_close(local, on_ray)


@pytest.mark.heavy
def test_backtest_and_simulate_on_ray_match_local(
    demo_db_master: Path, tmp_path: Path, ray_runtime: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not HEAVY:
        pytest.skip("SHELFWISE_HEAVY=1 runs the backtest and simulation on Ray")
    monkeypatch.setattr(sampling, "CHUNK_PAIRS", 64)
    panel = load_panel(demo_db_master, None, horizon=14, active_days=90)
    end = panel.y.shape[1] - 1
    cfg = EngineConfig(horizon=14, models=tuple(STAT_MODELS.split(",")), prophet_series=3)
    with open_executor("ray") as executor:
        on_ray = forecast_panel(panel, end, cfg, executor=executor, chunk=50)
    local = forecast_panel(panel, end, cfg)
    np.testing.assert_allclose(on_ray.forecasts["auto"].yhat, local.forecasts["auto"].yhat)
    from forecasting.inventory.simulate import SimConfig, load_sim_data, simulate

    until = (panel.dates[end] - np.timedelta64(28, "D")).astype(dt.date)
    sim_cfg = SimConfig(until=until, days=28)
    data = load_sim_data(demo_db_master, sim_cfg)
    with open_executor("ray") as executor:
        on_ray = simulate(data, sim_cfg, progress=False, executor=executor).as_json()
    assert on_ray == simulate(data, sim_cfg, progress=False).as_json()
