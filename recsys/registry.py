"""Versioned model artifacts under `artifacts_dir(db, "recsys")/vNNNN/`.

A version is written into a temporary folder, fsynced, then renamed into place, so a reader
sees either a complete version or none. `manifest.json` (written last) lists each file's
SHA-256; a version whose files are missing or do not match is skipped with a warning and the
previous good version is loaded instead.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from recsys.applicable import customers_missing
from recsys.baselines import Ease
from recsys.errors import NoCustomerPurchasesError, NoModelError, RecsysError
from recsys.manifest import MANIFEST, RANKER, list_versions, model_root, read_manifest
from recsys.pin import read_pin
from recsys.train import TwoTowerRecommender
from warehouse.db import WarehouseError, resolve_db_path
from warehouse.files import file_sha256, fsync_dir

log = logging.getLogger(__name__)
WEIGHTS, META, EASE = "weights.pt", "meta.json", "ease.npy"


@dataclass(frozen=True)
class LoadedModel:
    """A loaded version: the model, its manifest and where it lives."""

    model: TwoTowerRecommender
    manifest: dict[str, Any]
    path: Path
    skipped: tuple[str, ...] = ()  # why newer versions were not loaded
    ease: Ease | None = None  # the blend's EASE part, when the version has one
    ranker: Any = None  # recsys.ranker.RankerModel, when the version has one

    @property
    def version(self) -> int:
        """The registry version number (v0003 -> 3)."""
        return int(self.manifest["version"])


def _write_json(path: Path, payload: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2, default=str)
        handle.flush()
        os.fsync(handle.fileno())


def save_model(
    db: str | os.PathLike[str] | None,
    model: TwoTowerRecommender,
    *,
    data_range: dict[str, str | None],
    metrics: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    ease: Ease | None = None,
    ranker: Any = None,
) -> Path:
    """Write a new version atomically; returns its folder.

    Files: weights.pt (two-tower state dict), meta.json (config, feature spec, id maps),
    optional ease.npy ([n_items, n_items] float32 of the blend), optional ranker files
    (`recsys.ranker.RankerModel.to_files`: LightGBM text models + ranker.json), manifest.json
    (last).
    """
    root = model_root(db)
    root.mkdir(parents=True, exist_ok=True)
    state = model.to_state()
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        torch.save(state["weights"], tmp / WEIGHTS)
        _write_json(tmp / META, state["meta"])
        names = [WEIGHTS, META]
        if ease is not None:
            with open(tmp / EASE, "wb") as handle:
                np.save(handle, ease.weights)
                handle.flush()
                os.fsync(handle.fileno())
            names.append(EASE)
        if ranker is not None:
            for name, payload in ranker.to_files().items():
                with open(tmp / name, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
                names.append(name)
        files = {name: file_sha256(tmp / name) for name in names}
        for attempt in range(100):
            existing = list_versions(db)
            version = (int(existing[0].name[1:]) if existing else 0) + 1 + attempt
            manifest = {
                "version": version,
                "model": model.name,
                "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "data_range": data_range,
                "metrics": metrics or {},
                "files": files,
                **(extra or {}),
            }
            _write_json(tmp / MANIFEST, manifest)
            target = root / f"v{version:04d}"
            try:
                os.rename(tmp, target)  # atomic; fails if the name exists (a concurrent save)
            except OSError:
                continue
            fsync_dir(root)
            return target
        raise RecsysError(f"{root}: could not allocate a new model version")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_version(path: Path) -> LoadedModel:
    """Load one version folder (raises RecsysError when corrupt)."""
    manifest = read_manifest(path)
    try:
        weights = torch.load(path / WEIGHTS, map_location="cpu", weights_only=True)
        meta = json.loads((path / META).read_text(encoding="utf-8"))
        model = TwoTowerRecommender.from_state(weights, meta)
        ease = None
        if EASE in manifest.get("files", {}):
            ease = Ease()
            ease.weights = np.load(path / EASE, allow_pickle=False)
        ranker = None
        if RANKER in manifest.get("files", {}):
            from recsys.ranker import RankerModel

            ranker = RankerModel.from_files(path)
    except Exception as exc:  # a corrupt file must never crash serving
        raise RecsysError(f"{path}: cannot load the model ({type(exc).__name__}: {exc})") from exc
    return LoadedModel(model, manifest, path, (), ease, ranker)


def load_latest(db: str | os.PathLike[str] | None) -> LoadedModel:
    """The pinned version (`recsys.pin`), else the newest that loads (broken ones skipped)."""
    pinned = read_pin(db)
    if pinned is not None:
        return _load_pinned(db, pinned)
    problems: list[str] = []
    for path in list_versions(db):
        try:
            loaded = load_version(path)
        except RecsysError as exc:
            log.warning("skipping model version: %s", exc)
            problems.append(str(exc))
            continue
        return LoadedModel(
            loaded.model, loaded.manifest, loaded.path, tuple(problems), loaded.ease, loaded.ranker
        )
    reason = _no_customers(db) if not problems else None
    if reason:  # no model can be made: say why, not "train one"
        raise NoCustomerPurchasesError(f"no recommendations for this data: {reason}")
    detail = f"{model_root(db)}: " + ("; ".join(problems) if problems else "no model versions")
    raise NoModelError(detail)


def _no_customers(db: str | os.PathLike[str] | None) -> str | None:
    """`recsys.applicable.customers_missing`, None when the warehouse cannot be read."""
    try:
        return customers_missing(resolve_db_path(db))
    except WarehouseError:
        return None


def _load_pinned(db: str | os.PathLike[str] | None, version: int) -> LoadedModel:
    path = model_root(db) / f"v{version:04d}"
    try:
        return load_version(path)
    except RecsysError as exc:
        raise NoModelError(
            f"pinned version {version}: {exc}; run `python -m recsys unpin` or pin another version"
        ) from exc
