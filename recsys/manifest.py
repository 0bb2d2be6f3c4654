"""Reading the model registry without loading a model: versions, manifests, whether one exists.

Torch-free on purpose: the app's sidebar (`services.freshness`) and `status` ask which model is
served and when it was trained on every page run; importing torch for that costs seconds.
`recsys.registry` writes versions and loads models on top of this module.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from recsys.errors import RecsysError
from recsys.feature_names import FEATURES
from recsys.pin import read_pin
from warehouse.files import file_sha256
from warehouse.paths import artifacts_dir

log = logging.getLogger(__name__)
PACKAGE = "recsys"
MANIFEST = "manifest.json"
RANKER = "ranker.json"  # a version's ranker (`recsys.registry` writes it)


def model_root(db: str | os.PathLike[str] | None) -> Path:
    """Folder holding the recommender's versions next to warehouse `db`."""
    return artifacts_dir(db, PACKAGE)


def list_versions(db: str | os.PathLike[str] | None) -> list[Path]:
    """Version folders, newest first."""
    root = model_root(db)
    if not root.exists():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name[:1] == "v" and p.name[1:].isdigit()]
    return sorted(found, key=lambda p: int(p.name[1:]), reverse=True)


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a version after checking every file's SHA-256."""
    manifest_path = path / MANIFEST
    if not manifest_path.exists():
        raise RecsysError(f"{path}: no {MANIFEST} (incomplete version)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RecsysError(f"{manifest_path}: unreadable ({exc})") from exc
    for name, digest in manifest.get("files", {}).items():
        file = path / name
        if not file.exists():
            raise RecsysError(f"{file}: missing")
        if file_sha256(file) != digest:
            raise RecsysError(f"{file}: checksum mismatch (corrupt artifact)")
    check_ranker_features(path, manifest)
    return manifest


def check_ranker_features(path: Path, manifest: dict[str, Any]) -> None:
    """Raise RecsysError when a saved ranker was trained on other features than this code's
    (`recsys.feature_names.FEATURES`): such a version cannot serve, so it must not count as the
    served model either (the pipeline then trains a new one instead of skipping the step).
    Reads only the header of each LightGBM text model (its `feature_names=` line)."""
    for name in manifest.get("files", {}):
        if not (name.startswith("ranker_") and name.endswith(".txt")):
            continue
        with open(path / name, encoding="utf-8") as handle:
            for _, line in zip(range(64), handle, strict=False):
                if line.startswith("feature_names="):
                    if tuple(line.removeprefix("feature_names=").split()) != FEATURES:
                        raise RecsysError(
                            f"{path / name}: trained on other ranker features than this version "
                            "of recsys; train a new model version (`python -m recsys train`)"
                        )
                    break


def latest_manifest(db: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """Manifest of the pinned version, else of the newest whose files check out (None: none)."""
    pinned = read_pin(db)
    if pinned is not None:
        try:
            return read_manifest(model_root(db) / f"v{pinned:04d}")
        except RecsysError as exc:
            log.warning("pinned model version unusable: %s", exc)
            return None
    for path in list_versions(db):
        try:
            return read_manifest(path)
        except RecsysError as exc:
            log.warning("skipping model version: %s", exc)
    return None


def served_by(manifest: dict[str, Any]) -> dict[str, str]:
    """What serves each list of a version, by the `model` code its rows carry: `lists` (a
    customer's, a basket's and bulk lists: "ranker(lightgbm)" when the version has a ranker,
    else its blend) and `similar` (similar products: the item vectors of `model`)."""
    model = str(manifest.get("model") or "?")
    if RANKER in manifest.get("files", {}):
        lists = "ranker(lightgbm)"
    else:
        lists = str(manifest.get("serving_model") or model)
    return {"lists": lists, "similar": model}


def has_model(db: str | os.PathLike[str]) -> bool:
    """Whether the registry next to `db` holds a loadable model version."""
    return latest_manifest(db) is not None


def model_status(db: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """The served model's version, trained_at, data range, metrics and `serving` (what makes
    each list: `served_by`); None = no model."""
    manifest = latest_manifest(db)
    if manifest is None:
        return None
    keys = ("version", "model", "trained_at", "data_range", "metrics", "buy_again_weight")
    return {**{key: manifest.get(key) for key in keys}, "serving": served_by(manifest)}
