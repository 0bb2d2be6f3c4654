"""Atomic file writes shared by every export: temp file in the same folder, then rename.

Every CSV the product writes goes through `write_csv_safe` / `csv_bytes`: a text cell (or column
name) that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (the
OWASP CSV-injection rule), so a spreadsheet shows it as text instead of running it as a formula.
`raw=True` (the CLIs' `--raw-csv`) writes values unchanged for machine consumers.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import BinaryIO

import polars as pl

#: First characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


class OutputPathError(ValueError):
    """An output path that cannot be written; the message is one line naming the flag and path."""


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `'` before every text cell and column name starting with a formula character.

    Only text columns change (numbers stay numbers); nulls stay null.
    """
    pattern = "^[=+\\-@\t\r]"

    def safe(name: str) -> str:
        return "'" + name if name.startswith(FORMULA_PREFIXES) else name

    exprs = [
        pl.when(pl.col(c).str.contains(pattern))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        if dtype == pl.String
        else pl.col(c)
        for c, dtype in frame.schema.items()
    ]
    out = frame.select(exprs) if exprs else frame
    return out.rename({c: safe(c) for c in out.columns if safe(c) != c})


def write_csv_safe(
    frame: pl.DataFrame, target: str | os.PathLike[str] | BinaryIO, *, raw: bool = False
) -> None:
    """Write `frame` as CSV to a path or binary buffer, formulas neutralised unless `raw`."""
    (frame if raw else neutralise_formulas(frame)).write_csv(target)  # type: ignore[arg-type]


def csv_bytes(frame: pl.DataFrame, *, raw: bool = False) -> bytes:
    """`frame` as CSV bytes (for downloads), formulas neutralised unless `raw`."""
    buffer = io.BytesIO()
    write_csv_safe(frame, buffer, raw=raw)
    return buffer.getvalue()


def check_output_path(
    path: str | os.PathLike[str], *, flag: str = "--out", suffixes: tuple[str, ...] = ()
) -> Path:
    """`path` if a file can be written there, else OutputPathError (call before any work).

    Refuses: a wrong suffix (when `suffixes` is given), an existing folder, a missing or
    non-folder parent, an unwritable parent folder or an unwritable existing file.
    """
    out = Path(path).expanduser()
    if suffixes and out.suffix.lower() not in suffixes:
        raise OutputPathError(f"{flag} {out}: use a {' or '.join(suffixes)} file name")
    if out.is_dir():
        raise OutputPathError(f"{flag} {out}: is a folder; give a file name")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.exists():
        raise OutputPathError(f"{flag} {out}: folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputPathError(f"{flag} {out}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{flag} {out}: folder {parent} is not writable")
    if out.exists() and not os.access(out, os.W_OK):
        raise OutputPathError(f"{flag} {out}: the existing file is not writable")
    return out


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
    frame: pl.DataFrame, path: Path, *, sheet: str, autofit: bool = False, raw_csv: bool = False
) -> Path:
    """Write `frame` as .csv, .xlsx (one sheet named `sheet`) or .parquet, all or nothing.

    The caller validates the suffix (with its own message); a reader never sees a partial file,
    and a failure leaves any previous file at `path` as it was. CSV cells are neutralised
    (`write_csv_safe`) unless `raw_csv`.
    """
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"{path}: expected one of {', '.join(EXPORT_SUFFIXES)}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        if suffix == ".csv":
            write_csv_safe(frame, tmp, raw=raw_csv)
        elif suffix == ".parquet":
            frame.write_parquet(tmp)
        else:
            frame.write_excel(tmp, worksheet=sheet, autofit=autofit)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
