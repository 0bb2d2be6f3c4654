"""`services.levels`: the plan's reorder levels where no stock is loaded (a sales-only panel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecasting.errors import NoPlanError
from forecasting.inventory.api import load_reorder_plan
from forecasting.inventory.plan import run_plan
from services.levels import LEVEL_COLUMNS, product_levels, reorder_levels_for


def test_a_panel_without_stock_gets_its_levels_and_says_stock_is_missing(
    store_item_sample_db: Path,
) -> None:
    with pytest.raises(NoPlanError):
        reorder_levels_for(store_item_sample_db, None)
    run_plan(store_item_sample_db)
    plan = load_reorder_plan(store_item_sample_db)
    levels = reorder_levels_for(store_item_sample_db, None)
    assert levels.pairs == plan.height and levels.without_stock == plan.height
    assert levels.stock_missing
    assert levels.rows.columns == list(LEVEL_COLUMNS)
    assert levels.rows.height == plan.filter(plan["reorder_point"] > 0).height > 0
    # by store, then the busiest product first; the reason no longer repeats the missing stock
    for _, group in levels.rows.group_by("store_id"):
        assert group["mean_daily_demand"].is_sorted(descending=True)
    assert not levels.rows["reason"].str.contains("no stock snapshot").any()
    assert levels.rows["reason"].str.starts_with("cycle service target").all()
    store = str(levels.rows["store_id"][0])
    one = reorder_levels_for(store_item_sample_db, store)
    assert set(one.rows["store_id"]) == {store} and one.pairs < levels.pairs
    first = levels.rows.row(0, named=True)
    row = product_levels(store_item_sample_db, first["store_id"], first["product_id"])
    assert row == first
    assert product_levels(store_item_sample_db, store, "no such product") is None


def test_a_warehouse_with_stock_is_not_stock_missing(outputs_demo_master: Path) -> None:
    levels = reorder_levels_for(outputs_demo_master, None)
    assert levels.pairs > 0 and not levels.stock_missing
