"""Saved SQL workbench queries per user (no streamlit).

Kept as JSON next to the warehouse (`models/<db>/queries/<user>.json`), written atomically.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from warehouse.db import WarehouseError
from warehouse.paths import artifacts_dir

_NAME = re.compile(r"^[\w .-]{1,60}$")
MAX_SQL_CHARS = 20_000


def _store(db: str | os.PathLike[str] | None, user: str) -> Path:
    if not _NAME.match(user):
        raise WarehouseError(f"user name {user!r}: letters, digits, space, '.', '-' only")
    return artifacts_dir(db, "queries") / f"{user}.json"


def saved_queries(db: str | os.PathLike[str] | None, user: str) -> dict[str, str]:
    """The user's saved queries, name -> SQL ({} when none)."""
    path = _store(db, user)
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def save_query(db: str | os.PathLike[str] | None, user: str, name: str, sql: str) -> Path:
    """Save (or replace) query `name` for `user`; returns the JSON file."""
    if not _NAME.match(name):
        raise WarehouseError(f"query name {name!r}: 1-60 letters, digits, space, '.', '-'")
    if not sql.strip() or len(sql) > MAX_SQL_CHARS:
        raise WarehouseError(f"query {name!r}: empty or longer than {MAX_SQL_CHARS:,} chars")
    path = _store(db, user)
    queries = saved_queries(db, user)
    queries[name] = sql
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(queries, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path
