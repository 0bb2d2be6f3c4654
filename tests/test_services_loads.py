"""The app's upload (services.loads): every kind's column names can be changed on the form."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.loads import COLUMN_FIELDS, LOAD_KINDS, load_file, load_upload
from warehouse.db import WarehouseError, query, reading

TRANSACTIONS = (
    "t_dat,customer_id,article_id,price\n"
    "2018-09-20,c1,0663713001,0.05\n2018-09-20,c1,0663713001,0.05\n"
    "2018-09-21,c2,0541518023,0.03\n"
)


def test_every_kind_offers_its_column_fields_with_the_loader_defaults() -> None:
    assert set(COLUMN_FIELDS) == set(LOAD_KINDS)
    for kind, fields in COLUMN_FIELDS.items():
        roles = [f.role for f in fields]
        assert len(roles) == len(set(roles)), kind
    panel = {f.role: f.default for f in COLUMN_FIELDS["sales-panel"]}
    assert panel == {
        "date_col": "date",
        "store_col": "store",
        "item_col": "item",
        "qty_col": "sales",
        "price_col": "",
    }


def test_a_transactions_file_uploads_with_roles_named_and_declared_absent(tmp_path: Path) -> None:
    """H&M's shape through the upload form: names given, invoice and quantity declared absent;
    the same text the CLI takes as --column options."""
    db = tmp_path / "t.duckdb"
    names = {"columns": "stock_code=article_id, invoice_date=t_dat, invoice=, quantity="}
    report = load_upload(db, "online-retail", "transactions.csv", TRANSACTIONS.encode(), names)
    assert (report.rows_accepted, report.rows_quarantined) == (3, 0)
    with reading(db) as con:
        rows = query(con, "SELECT order_id, sum(quantity) AS units FROM fct_sales GROUP BY 1")
    assert sorted(rows.rows()) == [("c1@2018-09-20", 2.0), ("c2@2018-09-21", 1.0)]


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"columns": "stock_code=article_id, invoice_date"}, "columns: 'invoice_date': expected"),
        ({"columns": "sku=article_id"}, "unknown role 'sku'"),
        (
            {"columns": "stock_code=article_id, invoice_date=t_dat"},
            "^transactions.csv: missing column 'Invoice' / 'InvoiceNo'; .* name it with "
            "invoice=NAME, or invoice= if the file has none",
        ),
        ({"qty_col": "x"}, "online-retail columns: unknown field 'qty_col'"),
    ],
)
def test_a_bad_column_naming_is_refused_with_the_warehouse_unchanged(
    names: dict[str, str], message: str, tmp_path: Path
) -> None:
    db = tmp_path / "t.duckdb"
    with pytest.raises(WarehouseError, match=message):
        load_upload(db, "online-retail", "transactions.csv", TRANSACTIONS.encode(), names)
    assert not db.exists()


def test_a_product_master_and_stock_file_upload_under_their_own_names(tmp_path: Path) -> None:
    """Products (sku, name, dept) and a stock snapshot (shop, sku, day, qty) with no on-order."""
    db = tmp_path / "t.duckdb"
    sales = tmp_path / "panel.csv"
    sales.write_text("date,store,item,sales\n2024-01-01,S1,A1,2\n2024-01-02,S1,A1,3\n")
    load_file(db, "sales-panel", sales)
    master = tmp_path / "master.csv"
    master.write_text("sku,name,dept\nA1,Blue mug,Kitchen\n")
    products = {"product_col": "sku", "description_col": "name", "category_col": "dept"}
    report = load_file(db, "products", master, products)
    assert report.rows_accepted == 1
    stock = tmp_path / "stock.csv"
    stock.write_text("shop,sku,day,qty\nS1,A1,2024-01-02,7\n")
    columns = {"store_col": "shop", "product_col": "sku", "date_col": "day"}
    columns |= {"on_hand_col": "qty", "on_order_col": ""}
    assert load_file(db, "inventory", stock, columns).rows_accepted == 1
    with reading(db) as con:
        product = query(con, "SELECT description, category FROM dim_product")
        on_hand = query(con, "SELECT on_hand_units FROM fct_inventory")
    assert product.rows() == [("Blue mug", "Kitchen")]
    assert on_hand["on_hand_units"].to_list() == [7]


def test_a_promotions_plan_uploads_under_its_own_names(tmp_path: Path) -> None:
    """A flag-only plan (no discount column) for every store, named on the form."""
    db = tmp_path / "t.duckdb"
    sales = tmp_path / "panel.csv"
    sales.write_text("date,store,item,sales\n2024-01-01,S1,A1,2\n2024-01-02,S1,A1,3\n")
    load_file(db, "sales-panel", sales)
    plan = b"sku,first,last\nA1,2024-01-10,2024-01-12\n"
    names = {"product_col": "sku", "start_col": "first", "end_col": "last"}
    report = load_upload(db, "promotions", "plan.csv", plan, names)
    assert report.rows_accepted == 1
    assert any("recorded as flags" in note for note in report.notes)
    with reading(db) as con:
        rows = query(con, "SELECT store_id, product_id, end_date FROM fct_promotion").rows()
    assert [(store, product) for store, product, _ in rows] == [(None, "A1")]
    with pytest.raises(WarehouseError, match="^plan.csv: missing column"):
        load_upload(db, "promotions", "plan.csv", plan, {"start_col": "first"})
