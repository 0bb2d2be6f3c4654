"""The reorder plan: pure plan building on hand-made inputs, and the CLI on a real warehouse."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from forecasting.cli import main
from forecasting.errors import NoPlanError
from forecasting.inventory.api import (
    load_reorder_plan,
    simulation_summary,
    stock_view,
    what_to_order,
)
from forecasting.inventory.config import PlanConfig
from forecasting.inventory.demand_dist import DemandInputs
from forecasting.inventory.inputs import (
    PlanInputs,
    daily_matrix,
    load_inputs,
    sales_range,
    store_pairs,
)
from forecasting.inventory.orders import build_orders, write_purchase_orders
from forecasting.inventory.plan import build_plan
from warehouse.db import execute, query, reading, scalar, writing
from warehouse.ingest.sales_panel import PanelColumns, ingest_args

UNTIL = date(2026, 1, 31)
CONTRACT_COLUMNS = (
    "store_id",
    "product_id",
    "on_hand",
    "on_order",
    "reorder_point",
    "safety_stock",
    "order_up_to",
    "suggested_order_qty",
    "days_of_cover",
    "stockout_risk",
    "reason",
    "description",
    "category",
    "service_target",
    "policy",
    "unit_cost",
    "order_value",
)


def pairs_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Plan pairs with sensible defaults for every column the plan reads."""
    base: dict[str, object] = {
        "store_id": "S1",
        "product_id": "P1",
        "description": "thing",
        "category": "Misc",
        "unit_price": 10.0,
        "unit_cost": 6.0,
        "is_cost_estimated": False,
        "lead_time_mean_days": 4.0,
        "lead_time_sd_days": 0.0,
        "order_cost": 20.0,
        "holding_cost_rate": 0.25,
        "min_order_qty": 1.0,
        "case_pack": 1.0,
        "param_source": "product",
        "first_sale_date": date(2025, 1, 1),
        "snapshot_date": UNTIL,
        "on_hand_units": 10.0,
        "on_order_units": 0.0,
    }
    return pl.DataFrame(
        [{**base, **row} for row in rows],
        schema_overrides={
            "on_hand_units": pl.Float64,
            "unit_cost": pl.Float64,
            "first_sale_date": pl.Date,
        },
    )


def test_plan_by_hand_constant_demand() -> None:
    # 2 units every day, fixed 4-day lead time: lead-time demand 8, undershoot floor(V * 2) in
    # {0, 1} -> s = 9 at 95%; EOQ = sqrt(2 * 730 * 20 / 1.5) = 139.4 -> 12 cases of 12 = 144
    pairs = pairs_frame([{"case_pack": 12.0, "on_hand_units": 9.0}])
    inputs = PlanInputs(pairs, DemandInputs(np.full((1, 56), 2.0)), UNTIL)
    row = build_plan(inputs, PlanConfig()).row(0, named=True)
    assert row["reorder_point"] == 9.0
    assert row["order_qty"] == 144.0
    assert row["order_up_to"] == 153.0
    assert row["suggested_order_qty"] == 144.0  # position 9 <= s 9
    assert row["days_of_cover"] == 4.5
    assert "at or below reorder point 9" in row["reason"]
    assert "history bootstrap" in row["reason"]


def test_periodic_review_orders_up_to_s() -> None:
    pairs = pairs_frame([{"on_hand_units": 5.0, "on_order_units": 3.0}])
    inputs = PlanInputs(pairs, DemandInputs(np.full((1, 56), 2.0)), UNTIL)
    row = build_plan(inputs, PlanConfig(policy="RS", review_days=7)).row(0, named=True)
    # demand over L + R = 11 days = 22 units; order 22 - (5 + 3) = 14
    assert row["order_up_to"] == 22.0
    assert row["suggested_order_qty"] == 14.0


def test_edge_cases_flagged_in_reason() -> None:
    pairs = pairs_frame(
        [
            {"product_id": "NEW", "first_sale_date": None},
            {"product_id": "ZERO"},
            {"product_id": "NEG", "on_hand_units": -3.0},
            {"product_id": "DEFAULTS", "param_source": "default"},
            {"product_id": "NOSTOCK", "on_hand_units": None, "snapshot_date": None},
            {"product_id": "NOCOST", "unit_cost": None},
        ]
    )
    history = np.full((6, 56), 1.0)
    history[1] = 0.0
    history[0] = 0.0
    plan = build_plan(PlanInputs(pairs, DemandInputs(history), UNTIL), PlanConfig())
    reason = dict(zip(plan["product_id"], plan["reason"], strict=True))
    suggested = dict(zip(plan["product_id"], plan["suggested_order_qty"], strict=True))
    assert "no sales on or before 2026-01-31" in reason["NEW"] and suggested["NEW"] == 0
    assert "no sales in the last 56 days" in reason["ZERO"] and suggested["ZERO"] == 0
    assert "negative on-hand -3" in reason["NEG"] and suggested["NEG"] > 0
    assert "documented defaults" in reason["DEFAULTS"]
    assert "no stock snapshot" in reason["NOSTOCK"] and suggested["NOSTOCK"] == 0
    assert plan.filter(pl.col("product_id") == "NOSTOCK")["on_hand"][0] is None
    assert "no unit cost: order quantity = 7 days" in reason["NOCOST"]
    assert plan.filter(pl.col("product_id") == "NOCOST")["order_qty"][0] == 7.0


def test_intermittent_demand_uses_the_exact_compound_distribution() -> None:
    # one sale of 6 units every 14 days, lead time 4: a 4-day window holds the sale with
    # probability 4/14, and the undershoot is floor(V * 6), uniform on 0..5. So
    # P(X <= k) = 10/14 (k + 1)/6 for k < 6 and 10/14 + 4/14 (k - 5)/6 for k >= 6:
    # the 50% point is 4 (0.595; 3 gives 0.476) and the 80% point is 7 (0.810; 6 gives 0.762)
    history = np.zeros((1, 56))
    history[0, ::14] = 6.0
    inputs = PlanInputs(pairs_frame([{}]), DemandInputs(history), UNTIL)
    for level, expected in ((0.5, 4.0), (0.8, 7.0)):
        plan = build_plan(inputs, PlanConfig(service_level=level, n_samples=20_000))
        assert plan["reorder_point"][0] == expected


def test_forecast_quantiles_drive_the_plan() -> None:
    pairs = pairs_frame([{}, {"product_id": "P2"}])
    q = np.full((2, 30, 7), 50.0)  # certain demand of 50 a day for both pairs
    has = np.array([True, False])
    inputs = PlanInputs(pairs, DemandInputs(np.full((2, 56), 1.0), q, has), UNTIL, "run-1")
    plan = build_plan(inputs, PlanConfig())
    assert plan["demand_source"].to_list() == ["forecast", "history"]
    assert "forecast quantiles (run run-1)" in plan["reason"][0]
    assert plan["reorder_point"][0] >= 200.0  # 4 days x 50
    assert plan["reorder_point"][1] <= 6.0


def test_class_and_cost_targets() -> None:
    pairs = pairs_frame(
        [{"product_id": "BIG", "unit_price": 100.0}, {"product_id": "SMALL", "unit_price": 1.0}]
    )
    history = np.full((2, 56), 3.0)
    plan = build_plan(PlanInputs(pairs, DemandInputs(history), UNTIL), PlanConfig(targets="class"))
    assert plan["target_basis"].to_list() == ["AX", "CX"]
    assert plan["service_target"].to_list() == [0.99, 0.95]
    cost = build_plan(PlanInputs(pairs, DemandInputs(history), UNTIL), PlanConfig(targets="cost"))
    assert cost["target_basis"].to_list() == ["cost", "fixed"]  # SMALL: price 1 < cost 6
    assert 0.5 <= cost["service_target"][0] <= 0.999


def test_config_rejects_absurd_inputs() -> None:
    for kwargs in (
        {"service_level": 1.0},
        {"service_level": 0.0},
        {"window_days": 3},
        {"policy": "XY"},
    ):
        with pytest.raises(ValueError):
            PlanConfig(**kwargs)  # type: ignore[arg-type]


def test_plan_cli_writes_contract_table_and_exports(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(NoPlanError, match="python -m forecasting plan"):
        load_reorder_plan(demo_db)
    out = tmp_path / "po.csv"
    assert main(["--db", str(demo_db), "plan", "--export", str(out)]) == 0
    assert "reorder_plan:" in capsys.readouterr().out
    plan = load_reorder_plan(demo_db)
    assert set(CONTRACT_COLUMNS) <= set(plan.columns)
    with reading(demo_db) as con:
        assert plan.height == scalar(con, "select count(*) from dim_supply")
    ordered = plan.filter(pl.col("suggested_order_qty") > 0)
    assert ordered.height > 0
    # suggestions are whole cases, at least the minimum, and only at or below the reorder point
    with reading(demo_db) as con:
        supply = query(con, "select * from dim_supply")
    joined = ordered.join(supply, on=["store_id", "product_id"])
    assert (joined["suggested_order_qty"] % joined["case_pack"] == 0).all()
    assert (joined["suggested_order_qty"] >= joined["min_order_qty"]).all()
    assert (joined["on_hand"] + joined["on_order"] <= joined["reorder_point"]).all()
    with out.open() as handle:
        assert len(list(csv.DictReader(handle))) == ordered.height
    top = what_to_order(demo_db, store_id="S001")
    assert top.height > 0 and set(top["store_id"]) == {"S001"}
    assert top["stockout_risk"].to_list() == sorted(top["stockout_risk"].to_list(), reverse=True)
    category = top["category"][0]
    by_category = what_to_order(demo_db, category=category)
    assert by_category.height > 0 and set(by_category["category"]) == {category}
    view = stock_view(demo_db, "S001", top["product_id"][0])
    assert view.columns == ["date", "on_hand_units", "reorder_point", "order_up_to"]
    assert view.height > 10 and view["reorder_point"][0] == top["reorder_point"][0]
    assert simulation_summary(demo_db).is_empty()


def test_plan_cli_rejects_bad_input(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = demo_db.read_bytes()
    assert main(["--db", str(demo_db), "plan", "--service-level", "1.0"]) == 2
    assert "--service-level must be between" in capsys.readouterr().err
    assert main(["--db", str(demo_db), "plan", "--export", str(tmp_path / "po.txt")]) == 2
    assert ".csv or .xlsx" in capsys.readouterr().err
    assert main(["--db", str(demo_db), "plan", "--until", "1990-01-01"]) == 2
    assert "before the first sale" in capsys.readouterr().err
    assert demo_db.read_bytes() == before  # nothing written


def test_export_xlsx_roundtrip(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "store_id": ["S1", "S1"],
            "product_id": ["A", "B"],
            "suggested_order_qty": [0.0, 12.0],
            "unit_cost": [1.0, 2.5],
            "reason": ["x", "y"],
        }
    )
    supply = pl.DataFrame(
        {
            "store_id": ["S1"],
            "product_id": ["B"],
            "supplier_id": ["ACME"],
            "lead_time_mean_days": [3.0],
        }
    )
    path = write_purchase_orders(build_orders(frame, supply), tmp_path / "po.xlsx")
    back = pl.read_excel(path, sheet_name="ACME")
    assert back["product_id"].to_list() == ["B"]
    assert back["line_total"].to_list() == [30.0]


def test_plan_reads_forecasts_table(demo_db: Path) -> None:
    with reading(demo_db) as con:
        last = scalar(con, "select max(sale_date) from fct_sales_daily")
        pair = con.execute(
            "select store_id, product_id from dim_supply order by 1, 2 limit 1"
        ).fetchall()[0]
    with writing(demo_db) as con:
        execute(
            con,
            "create table forecast_runs (run_id varchar, created_at timestamp, "
            '"until" date, horizon integer, models varchar, n_series integer)',
        )
        execute(
            con,
            "insert into forecast_runs values ('r1', now(), $until, 28, 'test', 1)",
            {"until": last},
        )
        execute(
            con,
            "create table forecasts as select $s as store_id, $p as product_id, "
            "cast($until as date) + cast(i as integer) as date, 'test' as model, "
            "400.0 as yhat, 400.0 as q_05, 400.0 as q_10, 400.0 as q_25, "
            "400.0 as q_50, 400.0 as q_75, 400.0 as q_90, 400.0 as q_95, "
            "'r1' as run_id from range(1, 29) t(i)",
            {"s": pair[0], "p": pair[1], "until": last},
        )
    inputs = load_inputs(demo_db, None, PlanConfig())
    assert inputs.forecast_run == "r1"
    assert inputs.demand.forecast_mask().sum() == 1
    plan = build_plan(inputs, PlanConfig())
    row = plan.filter((pl.col("store_id") == pair[0]) & (pl.col("product_id") == pair[1]))
    assert row["demand_source"][0] == "forecast"
    assert row["reorder_point"][0] >= 400.0


def test_json_is_valid_for_simulation_smoke(
    demo_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with reading(demo_db) as con:
        last = scalar(con, "select max(sale_date) from fct_sales_daily")
    until = last - timedelta(days=28)
    assert (
        main(
            [
                "--db",
                str(demo_db),
                "simulate",
                "--until",
                str(until),
                "--days",
                "21",
                "--samples",
                "200",
                "--json",
            ]
        )
        == 0
    )
    payload = json.loads(capsys.readouterr().out)
    assert set(payload) == {"target", "policies"}
    assert set(payload["policies"]) == {"shelfwise", "normal_approx", "rule_of_thumb"}
    for metrics in payload["policies"].values():
        assert set(metrics) == {
            "cycle_service_level",
            "fill_rate",
            "avg_on_hand_units",
            "stockout_days",
            "orders",
            "cycles",
            "cycle_service_se",
            "by_class",
            "by_month",
        }
        # the breakdowns add up to the overall cycles
        assert sum(c["cycles"] for c in metrics["by_class"].values()) == metrics["cycles"]
        assert sum(c["cycles"] for c in metrics["by_month"].values()) == metrics["cycles"]
    summary = simulation_summary(demo_db)
    assert summary.height == 3 and set(summary["scope"]) == {"overall"}


def test_a_weekly_panel_is_planned_from_its_weeks_spread_over_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A weekly panel (each row the week ending on its date) gets reorder points: the plan
    reads every week spread evenly over its seven days, the first week from its first day, and
    never a week that had not ended by the plan date; the reason says so."""
    week0 = date(2024, 1, 5)  # a Friday; weeks end on Fridays
    weekly = {(item, w): 7.0 * (5 + w % 3) * item for w in range(20) for item in (1, 2)}
    rows = ["date,store,item,sales"] + [
        f"{week0 + timedelta(weeks=w)},1,{item},{units:g}" for (item, w), units in weekly.items()
    ]
    source = tmp_path / "weekly.csv"
    source.write_text("\n".join(rows) + "\n")
    db = tmp_path / "weekly.duckdb"
    from warehouse.cli import main as warehouse_main

    columns = PanelColumns("date", "store", "item", "sales")
    assert warehouse_main(ingest_args(db, source, columns)) == 0
    last_week = week0 + timedelta(weeks=19)
    with reading(db) as con:
        assert sales_range(con) == (week0 - timedelta(days=6), last_week)
        pairs = store_pairs(con, last_week)
        assert pairs["first_sale_date"].to_list() == [week0 - timedelta(days=6)] * 2
        # the last 3 weeks, day by day: each day a seventh of its week
        days = daily_matrix(con, pairs, last_week - timedelta(days=21), 21)
        # a plan on the Wednesday after week 17 reads up to week 17's Friday, not week 18's
        midweek = daily_matrix(con, pairs, last_week - timedelta(days=21), 12)
    for row, item in enumerate((1, 2)):
        expected = np.repeat([weekly[(item, w)] / 7 for w in (17, 18, 19)], 7)
        np.testing.assert_allclose(days[row], expected)
        np.testing.assert_allclose(midweek[row], np.r_[expected[:7], np.zeros(5)])
    capsys.readouterr()
    assert main(["--db", str(db), "plan", "--quiet"]) == 0
    said = capsys.readouterr().out
    assert "2 to order now" not in said and "0 to order now" in said
    assert f"2 pairs have no stock snapshot on or before {last_week}" in said
    with reading(db) as con:
        plan = query(con, "SELECT * FROM reorder_plan ORDER BY product_id")
    assert plan.height == 2 and plan["as_of"].to_list() == [last_week] * 2
    assert (plan["reorder_point"] > 0).all()
    # mean daily demand of the 8-week window: the weeks' mean / 7
    for row, item in enumerate((1, 2)):
        window = np.mean([weekly[(item, w)] for w in range(12, 20)]) / 7
        assert plan["mean_daily_demand"][row] == pytest.approx(window, abs=1e-3)
    assert all("8 weeks of weekly sales spread over their days" in r for r in plan["reason"])


def test_portfolio_scope_spends_stock_where_cycles_are_frequent() -> None:
    # A sells ~20 a day (a cycle every ~3 weeks), B a case of 6 every ~10 days (a cycle every
    # ~4 months, and 95% of its lead-time demand is several units above 85%): the pooled
    # target lets B's reorder point fall toward its floor and puts a few units on A instead
    rng = np.random.default_rng(5)
    history = np.vstack([rng.poisson(20.0, 56), 6.0 * (rng.random(56) < 0.1)])
    pairs = pairs_frame([{"product_id": "A"}, {"product_id": "B"}])
    inputs = PlanInputs(pairs, DemandInputs(history), UNTIL)
    item = build_plan(inputs, PlanConfig(scope="item"))
    pooled = build_plan(inputs, PlanConfig())
    floor = build_plan(inputs, PlanConfig(scope="item", service_level=0.85))
    assert pooled["reorder_point"].sum() < item["reorder_point"].sum()
    assert pooled["reorder_point"][1] < item["reorder_point"][1]
    assert pooled["reorder_point"][1] >= floor["reorder_point"][1]  # no item under 95% - 10
    assert "pooled over items" in pooled["reason"][0]
    assert "pooled over items" not in item["reason"][0]
    with pytest.raises(ValueError, match="item-floor-gap"):
        PlanConfig(item_floor_gap=0.9)


def test_plan_scales_history_by_last_years_season(demo_db: Path) -> None:
    # the demo starts 2024-11-01: a plan in mid 2026 has a year-ago window, one in 2025 has not
    inputs = load_inputs(demo_db, date(2026, 6, 30), PlanConfig())
    assert inputs.season is not None and inputs.season.shape == (inputs.pairs.height,)
    assert ((inputs.season >= 0.5) & (inputs.season <= 2.0)).all()
    assert len(np.unique(inputs.season)) > 1  # categories differ
    reason = build_plan(inputs, PlanConfig())["reason"][0]
    assert "history bootstrap x " in reason and "season a year ago" in reason
    assert load_inputs(demo_db, date(2025, 6, 1), PlanConfig()).season is None
    assert load_inputs(demo_db, date(2026, 6, 30), PlanConfig(seasonal=False)).season is None


def test_plan_cli_target_options(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(demo_db), "plan", "--scope", "item", "--no-seasonal"]) == 0
    reason = load_reorder_plan(demo_db)["reason"]
    assert not reason.str.contains("pooled over items").any()
    assert not reason.str.contains("season a year ago").any()
    before = demo_db.read_bytes()
    assert main(["--db", str(demo_db), "plan", "--item-floor-gap", "0.7"]) == 2
    assert "--item-floor-gap must be between 0 and 0.5" in capsys.readouterr().err
    assert demo_db.read_bytes() == before
