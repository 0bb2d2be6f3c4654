"""`--until` splits: nothing after the date reaches training; repeat / new relevance is right."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.baselines import BuyAgain, PopularityRecent
from recsys.cli import main
from recsys.data import days_since_epoch, end_of_day_days, load_interactions
from recsys.errors import RecsysError
from recsys.evaluate import EvalConfig, evaluate_model, make_split

UNTIL = dt.date(2026, 4, 30)


def test_until_means_on_or_before(demo_db_master: Path) -> None:
    frame = load_interactions(demo_db_master, until=UNTIL)
    assert frame["sold_at"].max().date() == UNTIL
    later = load_interactions(demo_db_master, until=UNTIL + dt.timedelta(days=1))
    assert later.height > frame.height


def test_split_has_no_leakage(demo_db_master: Path) -> None:
    split = make_split(demo_db_master, EvalConfig(until=UNTIL, horizon_days=14))
    train = split.train
    assert train.events["t_days"].max() < end_of_day_days(UNTIL)
    seen = (train.counts()[split.users] > 0).toarray()
    repeat, new = split.relevant["repeat"].toarray() > 0, split.relevant["new"].toarray() > 0
    assert repeat.any() and new.any()
    assert not (repeat & ~seen).any() and not (new & seen).any()
    # relevance is exactly the test-period purchases
    test = load_interactions(demo_db_master, until=split.test_end, since=UNTIL).with_columns(
        t=days_since_epoch()
    )
    user = train.user_ids[split.users[0]]
    bought = set(test.filter(pl.col("customer_id") == user)["product_id"].to_list())
    items = np.flatnonzero(repeat[0] | new[0])
    assert {train.catalogue.item_ids[i] for i in items} == bought


def test_buy_again_wins_repeats_and_rows_are_complete(demo_db_master: Path) -> None:
    split = make_split(demo_db_master, EvalConfig(until=UNTIL, horizon_days=14, max_users=300))
    rows = {}
    for model in (PopularityRecent(), BuyAgain()):
        for row in evaluate_model(model.fit(split.train), split, k=10):
            rows[(row["model"], row["segment"])] = row
    assert rows[("buy-again", "repeat")]["recall"] > rows[("popularity-recent", "repeat")]["recall"]
    assert set(rows[("buy-again", "new")]) >= {"recall", "ndcg", "hit_rate", "map", "coverage"}


def test_bad_until_fails_clearly(demo_db_master: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(demo_db_master), "evaluate", "--until", "2026-13-01"]) == 1
    assert "--until" in capsys.readouterr().err
    with pytest.raises(RecsysError, match="--until 2030-01-01"):
        make_split(demo_db_master, EvalConfig(until=dt.date(2030, 1, 1)))


def test_cli_evaluate_writes_json(demo_db_master: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    assert (
        main(
            [
                "--db",
                str(demo_db_master),
                "--quiet",
                "evaluate",
                "--until",
                str(UNTIL),
                "--k",
                "10",
                "--horizon-days",
                "14",
                "--max-users",
                "200",
                "--epochs",
                "1",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    models = {row["model"] for row in report["rows"]}
    assert {
        "popularity-recent",
        "buy-again",
        "item-knn",
        "ease",
        "two-tower",
        "blend(buy-again+two-tower+ease)",
    } <= models
    assert {row["segment"] for row in report["rows"]} == {"repeat", "new"}


@pytest.mark.heavy
def test_online_retail_must_show(online_retail_file: Path, tmp_path: Path) -> None:
    """Full size: Online Retail II through 2010-09-30 (about 6 minutes on 2 cores)."""
    from tests.conftest import HEAVY
    from warehouse.ingest import ingest_online_retail

    if not HEAVY:
        pytest.skip("full-size run: set SHELFWISE_HEAVY=1 (make test-heavy)")
    db = tmp_path / "or.duckdb"
    ingest_online_retail(db, online_retail_file)
    out = tmp_path / "eval.json"
    assert (
        main(["--db", str(db), "--quiet", "evaluate", "--until", "2010-09-30", "--json", str(out)])
        == 0
    )
    rows = {(r["model"], r["segment"]): r["recall"] for r in json.loads(out.read_text())["rows"]}
    blend = "blend(buy-again+two-tower+ease)"
    assert rows[(blend, "repeat")] >= rows[("buy-again", "repeat")] - 1e-3
    best_new = max(
        v
        for (m, s), v in rows.items()
        if s == "new" and m in {"popularity-recent", "buy-again", "item-knn", "ease"}
    )
    assert rows[(blend, "new")] >= best_new - 1e-3
