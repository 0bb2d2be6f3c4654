"""Product master ingest: categories and names over the lines' own, latest load wins, atomic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from warehouse.cli import main
from warehouse.db import WarehouseError, query, reading, scalar
from warehouse.ingest import FAULT_ENV, InjectedFault, ingest_online_retail, ingest_products
from warehouse.ingest.products import ProductColumns

SAMPLE = SAMPLES / "online_retail_ii_sample.csv"
#: H&M's articles.csv names; codes from the Online Retail II sample.
ARTICLES = ProductColumns(
    product="article_id", description="prod_name", category="product_group_name", price=None
)


def _master(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "articles.csv"
    path.write_text(text)
    return path


def _products(db: Path, codes: tuple[str, ...]) -> dict[str, tuple[object, ...]]:
    with reading(db) as con:
        rows = query(
            con,
            "SELECT product_id, description, category, unit_price FROM dim_product "
            "WHERE list_contains($codes, product_id)",
            {"codes": list(codes)},
        )
    return {r[0]: r[1:] for r in rows.rows()}


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    db = tmp_path / "shop.duckdb"
    ingest_online_retail(db, SAMPLE)
    return db


def test_a_master_file_sets_categories_and_names_and_the_lines_fill_the_rest(
    shop: Path, tmp_path: Path
) -> None:
    before = _products(shop, ("85123A", "22138"))
    path = _master(
        tmp_path,
        "article_id,prod_name,product_group_name,index_name\n"
        "85123A,Heart holder,Candles,Home\n"
        "22138,,Kitchen,Home\n"  # no name: the lines' description stays
        "85123A,Again,Other,Home\n"  # the same code twice: the first row is kept
        ",No code,Kitchen,Home\n",
    )
    report = ingest_products(shop, path, ARTICLES)
    assert (report.rows_accepted, report.quarantine_reasons) == (
        2,
        {"duplicate_key": 1, "missing_field": 1},
    )
    after = _products(shop, ("85123A", "22138"))
    assert after["85123A"] == ("Heart holder", "Candles", before["85123A"][2])  # price from lines
    assert after["22138"] == (before["22138"][0], "Kitchen", before["22138"][2])
    again = ingest_products(shop, path, ARTICLES)
    assert again.rows_added == 0 and _products(shop, ("85123A", "22138")) == after


def test_a_later_load_replaces_a_product_s_row(shop: Path, tmp_path: Path) -> None:
    first = _master(tmp_path, "product_id,category,unit_price,unit_cost\n85123A,Candles,3.5,1.2\n")
    ingest_products(shop, first)
    assert _products(shop, ("85123A",))["85123A"][1:] == ("Candles", 3.5)
    second = tmp_path / "second.csv"
    second.write_text("product_id,category\n85123A,Lights\n")
    ingest_products(shop, second)
    with reading(shop) as con:
        assert scalar(con, "SELECT count(*) FROM raw_product WHERE product_code = '85123A'") == 1
    assert _products(shop, ("85123A",))["85123A"][1] == "Lights"


def test_bad_prices_and_costs_are_quarantined_by_row(shop: Path, tmp_path: Path) -> None:
    path = _master(
        tmp_path,
        "product_id,unit_price,unit_cost\n85123A,2.95,1.1\n22138,n/a,1\n21232,1.5,-2\n",
    )
    report = ingest_products(shop, path)
    assert report.quarantine_reasons == {"bad_price": 1, "bad_cost": 1}
    with reading(shop) as con:
        rows = query(con, "SELECT row_number, reason FROM quarantine WHERE source = 'products'")
    assert sorted(rows.rows()) == [(2, "bad_price"), (3, "bad_cost")]


def test_missing_columns_are_named_and_nothing_is_written(shop: Path, tmp_path: Path) -> None:
    digest = hashlib.sha256(shop.read_bytes()).hexdigest()
    path = _master(tmp_path, "article_id,index_name\n85123A,Home\n")
    with pytest.raises(WarehouseError, match=r"missing column\(s\) 'product_id'"):
        ingest_products(shop, path)
    with pytest.raises(WarehouseError, match=r"no product field to load; expected one or more"):
        ingest_products(shop, path, ProductColumns(product="article_id"))
    with pytest.raises(WarehouseError, match=r"missing column\(s\) 'prod_name'"):
        ingest_products(shop, path, ARTICLES)
    bad = _master(tmp_path, "product_id,unit_price\n85123A,free\n")
    with pytest.raises(
        WarehouseError, match=r"first bad_price: row 1, column 'unit_price': 'free'"
    ):
        ingest_products(shop, bad)
    assert hashlib.sha256(shop.read_bytes()).hexdigest() == digest


def test_a_load_failing_midway_changes_nothing(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _master(tmp_path, "product_id,category\n85123A,Candles\n")
    digest = hashlib.sha256(shop.read_bytes()).hexdigest()
    monkeypatch.setenv(FAULT_ENV, "build marts")
    with pytest.raises(InjectedFault):
        ingest_products(shop, path)
    assert hashlib.sha256(shop.read_bytes()).hexdigest() == digest
    monkeypatch.delenv(FAULT_ENV)
    assert ingest_products(shop, path).rows_added == 1


def test_the_command_line_loads_a_master_by_its_own_column_names(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _master(tmp_path, "article_id,prod_name,product_group_name\n85123A,Holder,Candles\n")
    args = ["--db", str(shop), "--quiet", "ingest", "products", str(path)]
    assert main(args) == 2
    assert "missing column(s) 'product_id'" in capsys.readouterr().err
    named = ["--product-col", "article_id", "--description-col", "prod_name"]
    assert main([*args, *named, "--category-col", "product_group_name"]) == 0
    assert "accepted                    1" in capsys.readouterr().out
    assert _products(shop, ("85123A",))["85123A"][:2] == ("Holder", "Candles")
