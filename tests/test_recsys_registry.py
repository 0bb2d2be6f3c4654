"""Model registry: atomic versioned writes, latest good version, fallback on corrupt artifacts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from recsys import manifest, registry
from recsys.baselines import Ease
from recsys.errors import NoCustomerPurchasesError, NoModelError
from recsys.feature_names import FEATURES
from recsys.train import TwoTowerConfig, TwoTowerRecommender
from services.freshness import OUTPUT_CHECKS
from tests.conftest import copy_warehouse
from tests.test_recsys_base import small_data
from warehouse.files import file_sha256


@pytest.fixture(scope="module")
def model() -> TwoTowerRecommender:
    config = TwoTowerConfig(dim=8, epochs=1, batch_size=16, val_days=0, show_progress=False)
    return TwoTowerRecommender(config).fit(small_data())


def _save(db: Path, model: TwoTowerRecommender) -> Path:
    return registry.save_model(
        db, model, data_range={"until": "2025-03-31"}, metrics={"val_recall": 0.5}
    )


def test_versions_increase_and_latest_loads(tmp_path: Path, model: TwoTowerRecommender) -> None:
    db = tmp_path / "w.duckdb"
    first, second = _save(db, model), _save(db, model)
    assert (first.name, second.name) == ("v0001", "v0002")
    loaded = registry.load_latest(db)
    assert loaded.version == 2 and loaded.skipped == ()
    data = small_data()
    users = np.arange(5)
    assert np.allclose(loaded.model.score(data, users), model.score(data, users), atol=1e-6)
    assert loaded.manifest["data_range"] == {"until": "2025-03-31"}


def test_ease_part_round_trips(tmp_path: Path, model: TwoTowerRecommender) -> None:
    data = small_data()
    ease = Ease().fit(data)
    db = tmp_path / "w.duckdb"
    registry.save_model(db, model, data_range={}, ease=ease)
    loaded = registry.load_latest(db)
    assert loaded.ease is not None and np.array_equal(loaded.ease.weights, ease.weights)


def test_corrupt_latest_falls_back_to_previous(tmp_path: Path, model: TwoTowerRecommender) -> None:
    db = tmp_path / "w.duckdb"
    _save(db, model)
    newest = _save(db, model)
    (newest / registry.WEIGHTS).write_bytes(b"not a torch file")
    loaded = registry.load_latest(db)
    assert loaded.version == 1
    assert "checksum mismatch" in loaded.skipped[0] and "v0002" in loaded.skipped[0]
    (loaded.path / manifest.MANIFEST).unlink()
    with pytest.raises(NoModelError, match="python -m recsys train") as err:
        registry.load_latest(db)
    assert "v0001" in str(err.value) and "v0002" in str(err.value)


def test_no_model_for_a_panel_without_customers_says_what_the_data_lacks(
    store_item_sample_db: Path,
) -> None:
    with pytest.raises(NoCustomerPurchasesError, match="no recommendations for this data: no sale"):
        registry.load_latest(store_item_sample_db)


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NoModelError, match="no model versions.*python -m recsys train"):
        registry.load_latest(tmp_path / "none.duckdb")
    assert manifest.latest_manifest(tmp_path / "none.duckdb") is None


def test_failed_save_leaves_nothing_behind(
    tmp_path: Path, model: TwoTowerRecommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    _save(db, model)

    def broken_save(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        _save(db, model)
    root = registry.model_root(db)
    assert sorted(p.name for p in root.iterdir()) == ["v0001"]
    assert registry.load_latest(db).version == 1


def test_a_ranker_trained_on_other_features_is_not_the_served_model(
    trained_demo_master: Path, tmp_path: Path
) -> None:
    """A version saved before the ranker's features changed (here: without the `uknn` score)
    neither serves nor counts as the model, so the pipeline trains a new one."""
    db = copy_warehouse(trained_demo_master, tmp_path / "demo.duckdb")
    assert manifest.has_model(db)
    version = manifest.list_versions(db)[0]
    saved = json.loads((version / manifest.MANIFEST).read_text(encoding="utf-8"))
    boosters = [n for n in saved["files"] if n.startswith("ranker_") and n.endswith(".txt")]
    assert boosters
    older = " ".join(f for f in FEATURES if f != "uknn_score")
    for name in boosters:
        text = (version / name).read_text(encoding="utf-8")
        text = re.sub(r"(?m)^feature_names=.*$", f"feature_names={older}", text)
        (version / name).write_text(text, encoding="utf-8")
        saved["files"][name] = file_sha256(version / name)  # intact, only older
    (version / manifest.MANIFEST).write_text(json.dumps(saved), encoding="utf-8")
    assert not manifest.has_model(db) and manifest.latest_manifest(db) is None
    assert OUTPUT_CHECKS["recsys train"](db) is False  # the pipeline's step runs again
    with pytest.raises(NoModelError, match="other ranker features"):
        registry.load_latest(db)
