"""Serving on a real (small) demo warehouse: business rules, baskets, similar items, exports."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys import service
from recsys.cli import main
from recsys.errors import NoModelError, RecsysError
from recsys.export import write_file
from recsys.refresh import train_and_register
from recsys.service import BusinessRules
from recsys.train import TwoTowerConfig
from services.pipeline import steps
from warehouse.db import query, reading

FAST = TwoTowerConfig(
    dim=16, epochs=1, max_examples_per_epoch=20_000, val_users=200, show_progress=False
)


@pytest.fixture(scope="module")
def trained_db(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("recsys") / "demo.duckdb"
    shutil.copyfile(demo_db_master, db)
    train_and_register(db, until=None, progress=False, config=FAST, ranker_config=False)
    return db


@pytest.fixture(scope="module")
def customer(trained_db: Path) -> str:
    with reading(trained_db) as con:
        return query(
            con,
            "select customer_id from fct_sales where customer_id is not null "
            "group by 1 order by count(*) desc limit 1",
        )["customer_id"][0]


def test_no_model_is_a_clear_error(demo_db: Path) -> None:
    assert [step.is_done(demo_db) for step in steps("recsys")] == [False, False]
    with pytest.raises(NoModelError, match="python -m recsys train"):
        service.recommend_for_customer(demo_db, "C000001")
    assert service.model_status(demo_db) is None


def test_recommend_columns_and_exclusions(trained_db: Path, customer: str) -> None:
    recs = service.recommend_for_customer(trained_db, customer, k=10)
    assert recs.columns == list(service.REC_COLUMNS)
    assert recs["rank"].to_list() == list(range(1, 11))
    assert recs["model"].unique().to_list() == ["blend(buy-again+two-tower+ease)"]
    assert (recs["score"].diff().drop_nulls() <= 1e-9).all()
    bought = set(service.customer_history(trained_db, customer)["product_id"].to_list())
    assert not bought & set(recs["product_id"].to_list())
    assert all(r.startswith("like ") for r in recs["reason"].to_list())
    again = service.recommend_for_customer(
        trained_db, customer, k=10, rules=BusinessRules(exclude_purchased=False)
    )
    assert bought & set(again["product_id"].to_list()), "regular items come back when allowed"
    assert any("bought it" in r for r in again["reason"].to_list())


def test_business_rules_are_honoured(trained_db: Path, customer: str) -> None:
    state = service.serving_state(trained_db)
    products = state.products
    categories = products["category"].unique().sort().to_list()
    blocked = service.recommend_for_customer(trained_db, customer, k=3)["product_id"].to_list()
    rules = BusinessRules(
        exclude_purchased=False,
        include_categories=tuple(categories[:3]),
        exclude_categories=(categories[0],),
        min_price=2.0,
        max_price=20.0,
        block_list=tuple(blocked),
        max_per_category=2,
    )
    recs = service.recommend_for_customer(trained_db, customer, k=10, rules=rules)
    assert 0 < recs.height <= 4, "two categories x at most two each"
    assert set(recs["category"]) <= set(categories[1:3])
    assert recs["unit_price"].is_between(2.0, 20.0).all()
    assert not set(blocked) & set(recs["product_id"].to_list())
    assert recs.group_by("category").len()["len"].max() <= 2
    allow = tuple(products["product_id"].to_list()[:5])
    allowed = service.recommend_for_customer(
        trained_db, customer, k=10, rules=BusinessRules(exclude_purchased=False, allow_list=allow)
    )
    assert set(allowed["product_id"].to_list()) == set(allow)


def test_in_stock_only_drops_items_out_of_stock_at_home_store(trained_db: Path) -> None:
    with reading(trained_db) as con:
        pairs = query(
            con,
            """
            with latest as (
                select store_id, product_id, on_hand_units, row_number() over (
                    partition by store_id, product_id order by snapshot_date desc) as rn
                from fct_inventory)
            select c.customer_id, l.product_id
            from latest as l join dim_customer as c on c.home_store_id = l.store_id
            where l.rn = 1 and l.on_hand_units <= 0
              and c.customer_id in (select customer_id from fct_sales)
            order by c.customer_id, l.product_id""",
        )
    assert pairs.height > 0, "the demo has stock-outs to test against"
    who = pairs["customer_id"][0]
    out = set(pairs.filter(pl.col("customer_id") == who)["product_id"].to_list())
    state = service.serving_state(trained_db)
    mask = state.out_of_stock_for(who)
    assert set(np.array(state.data.catalogue.item_ids)[mask].tolist()) == out
    everything = dict(k=len(state.data.catalogue.item_ids))
    loose = service.recommend_for_customer(
        trained_db, who, **everything, rules=BusinessRules(exclude_purchased=False)
    )
    assert out & set(loose["product_id"].to_list())
    strict = service.recommend_for_customer(
        trained_db,
        who,
        **everything,
        rules=BusinessRules(exclude_purchased=False, in_stock_only=True),
    )
    assert not out & set(strict["product_id"].to_list())
    bulk = service.bulk_recommendations(
        trained_db,
        [who],
        k=len(state.data.catalogue.item_ids),
        rules=BusinessRules(exclude_purchased=False, in_stock_only=True),
    )
    assert not out & set(bulk["product_id"].to_list())


def test_bad_rules_and_ids_fail_clearly(trained_db: Path) -> None:
    with pytest.raises(RecsysError, match="min_price"):
        BusinessRules(min_price=5, max_price=1)
    with pytest.raises(RecsysError, match="max_per_category"):
        BusinessRules(max_per_category=0)
    with pytest.raises(RecsysError, match="NOPE"):
        service.recommend_for_customer(trained_db, "NOPE")
    with pytest.raises(RecsysError, match="unknown product"):
        service.complete_basket(trained_db, ["NOPE"])


def test_basket_and_similar(trained_db: Path) -> None:
    ids = service.serving_state(trained_db).data.catalogue.item_ids
    basket = service.complete_basket(trained_db, ids[:2], k=5)
    assert basket.height == 5 and not set(ids[:2]) & set(basket["product_id"].to_list())
    assert all(r.startswith("goes with ") for r in basket["reason"].to_list())
    similar = service.similar_products(trained_db, ids[0], k=5)
    assert similar.height == 5 and ids[0] not in similar["product_id"].to_list()
    assert "reason" not in similar.columns and similar["model"][0].startswith("two-tower")


def test_export_files_and_table_are_complete(trained_db: Path, tmp_path: Path) -> None:
    frame = service.bulk_recommendations(trained_db, segment="loyal", k=5)
    with reading(trained_db) as con:
        loyal = set(
            query(con, "select customer_id from dim_customer where segment = 'loyal'")[
                "customer_id"
            ].to_list()
        )
    assert set(frame["customer_id"].to_list()) == loyal
    assert frame.columns == list(service.BULK_COLUMNS)
    assert (frame.group_by("customer_id").len()["len"] == 5).all()
    assert frame["reason"].null_count() == 0 and (frame["reason"] != "").all()
    for suffix in (".csv", ".parquet", ".xlsx"):
        path = write_file(frame, tmp_path / f"recs{suffix}")
        back = (
            pl.read_csv(path, schema_overrides={"customer_id": pl.String, "product_id": pl.String})
            if suffix == ".csv"
            else pl.read_parquet(path)
            if suffix == ".parquet"
            else pl.read_excel(path)
        )
        assert back.height == frame.height and back.columns == frame.columns
        assert back["customer_id"].cast(pl.String).to_list() == frame["customer_id"].to_list()


def test_cli_export_writes_file_and_table(
    trained_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "customers.txt"
    ids.write_text("customer_id\nC000001\nC000002\n")
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                "--db",
                str(trained_db),
                "--quiet",
                "export",
                "--k",
                "4",
                "--customers",
                str(ids),
                "--exclude-purchased",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    frame = pl.read_csv(out, schema_overrides={"customer_id": pl.String})
    assert frame.height == 8 and set(frame["customer_id"]) == {"C000001", "C000002"}
    with reading(trained_db) as con:
        table = query(con, "select * from recommendations order by customer_id, rank")
    assert table.height == 8 and table["product_id"].to_list() == frame["product_id"].to_list()
    assert [step.is_done(trained_db) for step in steps("recsys")] == [True, True]
    assert main(["--db", str(trained_db), "export", "--out", str(tmp_path / "x.txt")]) == 1
    assert "unsupported format" in capsys.readouterr().err
    assert not (tmp_path / "x.txt").exists()


def test_model_status(trained_db: Path, customer: str) -> None:
    status = service.model_status(trained_db)
    assert status is not None and status["version"] == 1
    assert status["model"] == "two-tower" and status["metrics"]["epochs"]
    listed = service.recommend_for_customer(trained_db, customer, 5)["model"].unique().to_list()
    assert status["serving"] == {"lists": listed[0], "similar": "two-tower"}  # no ranker: blend
    assert listed[0].startswith("blend(")
    assert status["data_range"]["last_sale"] >= status["data_range"]["first_sale"]
