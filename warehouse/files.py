"""Atomic file writes shared by every export: temp file in the same folder, then rename."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import polars as pl

#: File types a frame can be exported to.
EXPORT_SUFFIXES: tuple[str, ...] = (".csv", ".xlsx", ".parquet")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(directory: Path) -> None:
    """Flush a folder's entries to disk, so a rename inside it survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_frame_atomic(
    frame: pl.DataFrame, path: Path, *, sheet: str, autofit: bool = False
) -> Path:
    """Write `frame` as .csv, .xlsx (one sheet named `sheet`) or .parquet, all or nothing.

    The caller validates the suffix (with its own message); a reader never sees a partial file,
    and a failure leaves any previous file at `path` as it was.
    """
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"{path}: expected one of {', '.join(EXPORT_SUFFIXES)}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        if suffix == ".csv":
            frame.write_csv(tmp)
        elif suffix == ".parquet":
            frame.write_parquet(tmp)
        else:
            frame.write_excel(tmp, worksheet=sheet, autofit=autofit)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
