"""docs/CONTRACTS.md and docs/DATA.md agree with the code: schemas and marts, column by column."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import forecasting.inventory.schemas
import forecasting.schemas
import recsys.schemas
import services.schemas
from warehouse.build import MART_KEYS
from warehouse.db import query, reading

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCHEMA_MODULES = (
    forecasting.schemas,
    forecasting.inventory.schemas,
    recsys.schemas,
    services.schemas,
)
#: Schemas at internal boundaries, not read by the app or the API.
INTERNAL = {"HISTORY_SCHEMA", "BACKTEST_SCHEMA"}


def all_schemas() -> dict[str, dict[str, pl.DataType]]:
    found: dict[str, dict[str, pl.DataType]] = {}
    for module in SCHEMA_MODULES:
        for name, value in vars(module).items():
            if name.endswith("_SCHEMA") and isinstance(value, dict):
                assert name not in found, f"{name} is defined twice"
                found[name] = value
    return found


def documented_columns() -> dict[str, list[str]]:
    """`SCHEMA_NAME` -> the column list that follows it in docs/CONTRACTS.md."""
    text = " ".join((DOCS / "CONTRACTS.md").read_text(encoding="utf-8").split())
    pattern = r"\(`(\w+_SCHEMA)`\) columns: ([a-z0-9_, ]+?)[.;]"
    return {name: [c.strip() for c in cols.split(",")] for name, cols in re.findall(pattern, text)}


def test_every_documented_column_list_matches_its_schema() -> None:
    schemas, docs = all_schemas(), documented_columns()
    assert docs, "no `(`X_SCHEMA`) columns: ...` lists found in docs/CONTRACTS.md"
    for name, columns in docs.items():
        assert name in schemas, f"docs/CONTRACTS.md names {name}, which no schema module defines"
        assert columns == list(schemas[name]), (
            f"{name}: docs {columns} != code {list(schemas[name])}"
        )


def test_every_app_facing_schema_is_documented() -> None:
    undocumented = set(all_schemas()) - set(documented_columns()) - INTERNAL
    assert not undocumented, f"add these to docs/CONTRACTS.md: {sorted(undocumented)}"


def _top_level_split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [p.strip() for p in [*parts, current] if p.strip()]


def documented_mart_columns(mart: str) -> set[str]:
    """Key and listed columns of one mart's line in docs/DATA.md (types and notes dropped)."""
    text = (DOCS / "DATA.md").read_text(encoding="utf-8")
    match = re.search(rf"^- `{mart}` \(key: ([^)]*)\): (.*)$", text, re.M)
    assert match, f"docs/DATA.md has no line for mart {mart}"
    body = re.split(r"\.(?:\s|$)", match.group(2))[0]
    keys = {k.strip() for k in match.group(1).split(",")}
    return keys | {item.split()[0] for item in _top_level_split(body)}


@pytest.mark.parametrize("mart", list(MART_KEYS))
def test_data_md_lists_each_marts_columns(demo_db_master: Path, mart: str) -> None:
    with reading(demo_db_master) as con:
        actual = set(
            query(
                con,
                "SELECT column_name FROM information_schema.columns WHERE table_name = $t",
                {"t": mart},
            )["column_name"]
        )
    documented = documented_mart_columns(mart)
    assert actual == documented, (
        f"{mart}: not in docs/DATA.md {sorted(actual - documented)}, "
        f"not in the mart {sorted(documented - actual)}"
    )
