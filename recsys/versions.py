"""Model versions and rollback: list the registry, pin a version for serving, unpin.

Serving (`recsys.service`), exports and `status` load through `recsys.registry.load_latest`,
which honours the pin; the pipeline keeps training new versions while a pin holds.
"""

from __future__ import annotations

import os
from typing import Any

import polars as pl

from recsys.errors import RecsysError
from recsys.manifest import list_versions, model_root, read_manifest
from recsys.pin import read_pin, write_pin

VERSION_SCHEMA = pl.Schema(
    {
        "version": pl.Int64,
        "trained_at": pl.String,
        "data_generation": pl.String,
        "last_sale": pl.String,
        "val_recall": pl.Float64,
        "loss": pl.Float64,
        "customers": pl.Int64,
        "items": pl.Int64,
        "status": pl.String,
    }
)


def _last_epoch(manifest: dict[str, Any]) -> dict[str, Any]:
    epochs = manifest.get("metrics", {}).get("epochs") or [{}]
    return dict(epochs[-1])


def versions_frame(db: str | os.PathLike[str] | None) -> pl.DataFrame:
    """One row per registry version, newest first (schema `VERSION_SCHEMA`).

    `status` is "serving (pinned)", "serving", "available" or "broken: <why>"; without a pin the
    newest version that loads is the one serving.
    """
    pinned = read_pin(db)
    rows: list[dict[str, Any]] = []
    serving_found = False
    for path in list_versions(db):
        number = int(path.name[1:])
        try:
            manifest = read_manifest(path)
        except RecsysError as exc:
            rows.append({"version": number, "status": f"broken: {exc}"})
            continue
        if pinned is not None:
            status = "serving (pinned)" if number == pinned else "available"
        else:
            status = "available" if serving_found else "serving"
            serving_found = True
        last = _last_epoch(manifest)
        metrics = manifest.get("metrics", {})
        rows.append(
            {
                "version": number,
                "trained_at": manifest.get("trained_at"),
                "data_generation": manifest.get("data_generation"),
                "last_sale": (manifest.get("data_range") or {}).get("last_sale"),
                "val_recall": last.get("val_recall"),
                "loss": last.get("loss"),
                "customers": metrics.get("customers"),
                "items": metrics.get("items"),
                "status": status,
            }
        )
    return (
        pl.DataFrame(rows, schema=VERSION_SCHEMA) if rows else pl.DataFrame(schema=VERSION_SCHEMA)
    )


def pin_version(db: str | os.PathLike[str] | None, version: int) -> dict[str, Any]:
    """Serve `version` from now on (it must exist and pass its checksums); returns its manifest."""
    path = model_root(db) / f"v{version:04d}"
    if not path.is_dir():
        known = ", ".join(p.name[1:].lstrip("0") for p in list_versions(db)) or "none"
        raise RecsysError(f"version {version}: no such model version (have: {known})")
    manifest = read_manifest(path)  # raises when its files are missing or corrupt
    write_pin(db, version)
    return manifest


def unpin(db: str | os.PathLike[str] | None) -> int | None:
    """Serve the newest good version again; returns the version that was pinned (None: none)."""
    pinned = read_pin(db)
    write_pin(db, None)
    return pinned
