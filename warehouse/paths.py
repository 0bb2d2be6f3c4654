"""Where artifacts live next to a warehouse file."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse.db import resolve_db_path


def artifacts_dir(db: str | os.PathLike[str] | None, package: str) -> Path:
    """`<db folder>/models/<db stem>/<package>/`: versioned model artifacts of one warehouse."""
    path = resolve_db_path(db)
    return path.parent / "models" / path.stem / package
