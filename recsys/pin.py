"""The pinned model version: serving, exports and `status` use it instead of the newest.

The pin is a small file `PINNED` (the version number) in the registry folder next to the
warehouse (`artifacts_dir(db, "recsys")`), written atomically; no file means "serve the newest".
"""

from __future__ import annotations

import os
from pathlib import Path

from recsys.errors import RecsysError
from warehouse.files import fsync_dir
from warehouse.paths import artifacts_dir

PIN_FILE = "PINNED"


def pin_path(db: str | os.PathLike[str] | None) -> Path:
    """Where the pin of `db`'s registry lives."""
    return artifacts_dir(db, "recsys") / PIN_FILE


def read_pin(db: str | os.PathLike[str] | None) -> int | None:
    """The pinned version number, or None when serving follows the newest version."""
    path = pin_path(db)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not text.isdigit():
        raise RecsysError(f"{path}: not a version number ({text!r}); run `python -m recsys unpin`")
    return int(text)


def write_pin(db: str | os.PathLike[str] | None, version: int | None) -> None:
    """Pin `version` (None removes the pin), atomically."""
    path = pin_path(db)
    if version is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{PIN_FILE}.{os.getpid()}.tmp")
    tmp.write_text(f"{version}\n", encoding="utf-8")
    os.replace(tmp, path)
    fsync_dir(path.parent)
