"""The HTTP API through a real uvicorn server on the small demo: keys and roles, errors, the SQL
sandbox, the rate limit, paging, and answers during a real refresh."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest

from tests.api.conftest import (
    REPO,
    ROLES,
    ApiServer,
    add_key,
    api_env,
    start_server,
    stop_server,
)
from warehouse.db import reading
from warehouse.files import file_sha256


@pytest.fixture(scope="module")
def ids(api_db: Path) -> dict[str, str]:
    """A customer with purchases, a product, its category and a store of the warehouse."""
    with reading(api_db) as con:
        customer = con.execute(
            "SELECT customer_id FROM fct_sales WHERE customer_id IS NOT NULL "
            "GROUP BY 1 "
            "ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
        product, category = con.execute(
            "SELECT product_id, category FROM dim_product ORDER BY 1 LIMIT 1"
        ).fetchall()[0]
        store = con.execute("SELECT store_id FROM dim_store ORDER BY 1 LIMIT 1").fetchall()[0][0]
    return {"customer": customer, "product": product, "category": category, "store": store}


def routes(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | None, str]]:
    """(method, path, JSON body, least role) of every keyed route."""
    return [
        ("GET", "/v1/me", None, "viewer"),
        ("GET", f"/v1/customers/{ids['customer']}/recommendations?k=5", None, "merchandiser"),
        ("POST", "/v1/recommendations/basket", {"product_ids": [ids["product"]], "k": 3}, "viewer"),
        ("GET", f"/v1/products/{ids['product']}/similar?k=3", None, "viewer"),
        ("GET", f"/v1/forecasts?product_id={ids['product']}", None, "viewer"),
        ("GET", "/v1/reorder-plan?limit=5", None, "viewer"),
        ("GET", "/v1/purchase-orders.csv", None, "viewer"),
        ("POST", "/v1/sql", {"query": "SELECT count(*) AS n FROM dim_product"}, "analyst"),
    ]


def error_of(response: Any, status: int, code: str) -> str:
    """Assert the one error shape with `status` and `code`; the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert "\n" not in body["error"]["message"] and "Traceback" not in body["error"]["message"]
    return str(body["error"]["message"])


def test_health_needs_no_key_and_names_generation_and_model(api_server: ApiServer) -> None:
    with api_server.client() as client:
        body = client.get("/v1/health").json()
    st = api_server.db.stat()
    assert body["status"] == "ok" and body["generation"] == f"{st.st_ino}-{st.st_mtime_ns}"
    assert body["model_version"] and body["forecast_run_id"] and body["has_reorder_plan"]
    assert body["data_from"] < body["data_to"]


def test_auth_matrix_no_key_wrong_revoked_and_every_role(
    api_server: ApiServer, ids: dict[str, str]
) -> None:
    clients = {name: api_server.client(api_server.tokens[name]) for name in (*ROLES, "revoked")}
    clients["none"] = api_server.client()
    clients["wrong"] = api_server.client("swk_not-a-real-key")
    try:
        for method, path, body, need in routes(ids):
            for who in ("none", "wrong", "revoked"):
                response = clients[who].request(method, path, json=body)
                error_of(response, 401, "unauthorized")
                assert response.headers["www-authenticate"] == "Bearer"
            for role in ROLES:
                response = clients[role].request(method, path, json=body)
                if ROLES.index(role) >= ROLES.index(need):
                    assert response.status_code == 200, (role, path, response.text)
                else:
                    assert need in error_of(response, 403, "forbidden"), (role, path)
    finally:
        for client in clients.values():
            client.close()


def test_customer_level_calls_are_audited(api_server: ApiServer, ids: dict[str, str]) -> None:
    path = f"/v1/customers/{ids['customer']}/recommendations"
    with api_server.client(api_server.tokens["merchandiser"]) as client:
        assert client.get(path, params={"k": 2}).status_code == 200
    with api_server.client(api_server.tokens["viewer"]) as client:
        assert client.get(f"/v1/products/{ids['product']}/similar").status_code == 200
    lines = [json.loads(line) for line in api_server.audit.read_text().splitlines()]
    mine = [r for r in lines if r["key"] == "merchandiser" and r["path"] == path]
    assert mine and mine[-1]["route"] == "/v1/customers/{customer_id}/recommendations"
    assert not [r for r in lines if "/similar" in r["path"]]  # not customer-level
    assert api_server.audit.stat().st_mode & 0o777 == 0o600
    assert api_server.keys.stat().st_mode & 0o777 == 0o600
    assert all(token not in api_server.keys.read_text() for token in api_server.tokens.values())


def test_recommendations_rules_and_popularity_fallback(
    api_server: ApiServer, ids: dict[str, str]
) -> None:
    base = f"/v1/customers/{ids['customer']}/recommendations"
    with api_server.client(api_server.tokens["merchandiser"]) as client:
        known = client.get(base, params={"k": 8}).json()
        assert not known["popularity_fallback"] and len(known["items"]) == 8
        assert [i["rank"] for i in known["items"]] == list(range(1, 9))
        spread = client.get(base, params={"k": 5, "max_per_category": 1}).json()["items"]
        assert len({i["category"] for i in spread}) == len(spread) == 5
        cat = known["items"][0]["category"]
        only = client.get(base, params={"k": 3, "category": cat, "in_stock_only": True}).json()
        assert only["items"] and {i["category"] for i in only["items"]} == {cat}
        unknown = client.get("/v1/customers/no-such-shopper/recommendations?k=4").json()
        assert unknown["popularity_fallback"] and len(unknown["items"]) == 4
        assert all("popular" in i["reason"] for i in unknown["items"])


def test_exported_lists_answer_as_the_live_ranking_would(
    api_server: ApiServer, ids: dict[str, str]
) -> None:
    """Default rules, k <= 20, a customer of the fresh export: the list comes from the exported
    table (`X-Shelfwise-Source: exported`) and equals the live ranking; other calls go live."""
    from recsys.service import recommend_for_customer

    base = f"/v1/customers/{ids['customer']}/recommendations"  # the busiest: exported
    with api_server.client(api_server.tokens["merchandiser"]) as client:
        deadline = time.monotonic() + 300  # the lists load in the background after a first call
        answer = client.get(base, params={"k": 12})
        while answer.headers["x-shelfwise-source"] != "exported" and time.monotonic() < deadline:
            time.sleep(0.5)
            answer = client.get(base, params={"k": 12})
        assert answer.status_code == 200 and answer.headers["x-shelfwise-source"] == "exported"
        ruled = client.get(base, params={"k": 12, "max_per_category": 2})
        longer = client.get(base, params={"k": 25})
    assert ruled.headers["x-shelfwise-source"] == longer.headers["x-shelfwise-source"] == "live"
    st = api_server.db.stat()
    body = answer.json()
    assert body["generation"] == f"{st.st_ino}-{st.st_mtime_ns}"
    live = recommend_for_customer(api_server.db, ids["customer"], k=12)
    assert [i["product_id"] for i in body["items"]] == live["product_id"].to_list()
    assert [i["reason"] for i in body["items"]] == live["reason"].to_list()
    assert [i["unit_price"] for i in body["items"]] == live["unit_price"].to_list()
    assert [i["category"] for i in body["items"]] == live["category"].to_list()
    assert [i["rank"] for i in body["items"]] == list(range(1, 13))
    assert body["model"] == live["model"][0] and not body["popularity_fallback"]


def test_not_found_and_method_not_allowed(api_server: ApiServer, ids: dict[str, str]) -> None:
    with api_server.client(api_server.tokens["admin"]) as client:
        error_of(client.get("/v1/products/NOPE/similar"), 404, "not_found")
        error_of(
            client.post("/v1/recommendations/basket", json={"product_ids": ["NOPE"]}),
            404,
            "not_found",
        )
        error_of(client.get("/v1/forecasts", params={"product_id": "NOPE"}), 404, "not_found")
        error_of(client.get("/v2/anything"), 404, "not_found")
        error_of(client.delete("/v1/health"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("method", "path", "body", "where"),
    [
        ("GET", "/v1/products/{product}/similar?k=0", None, "query.k"),
        ("GET", "/v1/products/{product}/similar?k=abc", None, "query.k"),
        ("GET", "/v1/customers/{customer}/recommendations?k=101", None, "query.k"),
        ("GET", "/v1/forecasts?level=weekly", None, "query.level"),
        ("GET", "/v1/forecasts?level=item", None, "product_id"),
        ("GET", "/v1/forecasts?level=category", None, "category"),
        ("GET", "/v1/reorder-plan?limit=0", None, "query.limit"),
        ("POST", "/v1/recommendations/basket", {"product_ids": []}, "product_ids"),
        ("POST", "/v1/recommendations/basket", {"product_ids": ["x"], "extra": 1}, "extra"),
        ("POST", "/v1/sql", {"query": "SELECT 1", "max_rows": 0}, "max_rows"),
        ("POST", "/v1/sql", "not json", "body"),
    ],
)
def test_validation_errors_are_422_in_the_one_shape(
    api_server: ApiServer, ids: dict[str, str], method: str, path: str, body: Any, where: str
) -> None:
    with api_server.client(api_server.tokens["admin"]) as client:
        path = path.format(**ids)
        if isinstance(body, str):
            response = client.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
        else:
            response = client.request(method, path, json=body)
    assert where in error_of(response, 422, "invalid_request")


def test_reorder_plan_pages_cover_the_plan_once(api_server: ApiServer) -> None:
    seen: list[tuple[str, str]] = []
    with api_server.client(api_server.tokens["viewer"]) as client:
        offset: int | None = 0
        total = None
        while offset is not None:
            page = client.get("/v1/reorder-plan", params={"limit": 7, "offset": offset}).json()
            total = page["total"] if total is None else total
            assert page["total"] == total
            seen += [(i["store_id"], i["product_id"]) for i in page["items"]]
            assert all(i["suggested_order_qty"] > 0 for i in page["items"])
            offset = page["next_offset"]
        csv = client.get("/v1/purchase-orders.csv")
    assert total and len(seen) == len(set(seen)) == total
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("order_number,supplier_id,store_id,") and len(lines) == total + 1


HOSTILE_SQL = [
    ("COPY dim_product TO '{out}/x.csv'", "not COPY"),
    ("ATTACH '{out}/other.duckdb' AS other", "not ATTACH"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    ("SELECT * FROM '/etc/passwd'", ""),
    ("INSERT INTO dim_store SELECT * FROM dim_store", "not INSERT"),
    ("DROP TABLE dim_product", "not DROP"),
    ("SELECT 1; DROP TABLE dim_product", "one statement"),
    ("SELECT 1 /* ; */ ; UPDATE dim_product SET category = 'x'", "statement"),
    ("SET threads = 64", "not SET"),
    ("INSTALL httpfs", "not INSTALL"),
    ("SELECT getenv('HOME')", "getenv"),
    ("SELECT * FROM query('SELECT 1')", "query"),
    ("SHOW secret_directory", "settings are not readable"),
    (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        "time limit",
    ),
]


def test_hostile_sql_is_refused_and_the_warehouse_is_unchanged(
    api_server: ApiServer, tmp_path: Path
) -> None:
    before = file_sha256(api_server.db)
    listing = sorted(p.name for p in api_server.db.parent.iterdir())
    with api_server.client(api_server.tokens["analyst"]) as client:
        for text, words in HOSTILE_SQL:
            response = client.post(
                "/v1/sql", json={"query": text.format(out=tmp_path), "timeout_s": 2}
            )
            message = error_of(response, 400, "sql_refused")
            assert words in message and "root:" not in message, (text, message)
        capped = client.post(
            "/v1/sql", json={"query": "SELECT * FROM range(50)", "max_rows": 10}
        ).json()
        assert capped["row_count"] == 10 and capped["truncated"]
        ok = client.post("/v1/sql", json={"query": "SELECT count(*) AS n FROM fct_sales"})
        assert ok.status_code == 200 and ok.json()["rows"][0][0] > 0
        # a date beyond Python's range made polars panic while the rows became JSON
        far = client.post("/v1/sql", json={"query": "SELECT 'infinity'::DATE AS d"})
        assert far.status_code == 200 and far.json()["rows"] == [["infinity"]]
    assert file_sha256(api_server.db) == before
    assert sorted(p.name for p in api_server.db.parent.iterdir()) == listing
    assert not list(tmp_path.iterdir())


def test_rate_limit_answers_429_with_retry_after(api_server: ApiServer) -> None:
    with api_server.client(api_server.tokens["limited"]) as client:
        statuses = [client.get("/v1/me") for _ in range(5)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    error_of(limited[0], 429, "rate_limited")
    assert int(limited[0].headers["retry-after"]) >= 1


def test_rate_limit_holds_across_server_workers(api_server: ApiServer, tmp_path: Path) -> None:
    """Two uvicorn worker processes spend one bucket per key (the shared state beside the keys
    file): a key with a burst of 4 gets 4 answers, whichever worker takes each connection."""
    token = add_key(api_server.env, "shared-limit", "viewer", "--rate", "0.01", "--burst", "4")
    proc, url = start_server(api_server.db, api_server.env, tmp_path / "server.log", workers=2)
    try:
        statuses = [
            httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=60)
            for _ in range(10)  # a new connection each time
        ]
    finally:
        stop_server(proc)
    assert [r.status_code for r in statuses] == [200] * 4 + [429] * 6
    assert int(statuses[-1].headers["retry-after"]) >= 1


def test_answers_stay_consistent_while_a_refresh_swaps_the_warehouse(
    api_server: ApiServer, ids: dict[str, str]
) -> None:
    """Readers keep answering (no error) while `python -m forecasting plan` swaps in a new file,
    and then answer from the new generation."""
    before = api_server.db.stat().st_ino
    errors: list[str] = []
    generations: set[str] = set()
    stop = threading.Event()

    def hammer(token: str, path: str) -> None:
        with api_server.client(token) as client:
            deadline = time.monotonic() + 600
            while not stop.is_set() and time.monotonic() < deadline:
                response = client.get(path)
                if response.status_code != 200:
                    errors.append(f"{path}: {response.status_code} {response.text[:200]}")
                else:
                    generations.add(response.json()["generation"])

    threads = [
        threading.Thread(target=hammer, args=(api_server.tokens[t], p))
        for t, p in (
            ("merchandiser", f"/v1/customers/{ids['customer']}/recommendations?k=5"),
            ("viewer", "/v1/reorder-plan?limit=20"),
            ("viewer", f"/v1/forecasts?store_id={ids['store']}"),
        )
    ]
    for thread in threads:
        thread.start()
    try:
        subprocess.run(
            [sys.executable, "-m", "forecasting", "--db", str(api_server.db), "plan"],
            cwd=REPO,
            env=api_server.env,
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert api_server.db.stat().st_ino != before  # a new file was swapped in
    assert not errors, errors[:5]
    st = api_server.db.stat()
    assert f"{st.st_ino}-{st.st_mtime_ns}" in generations and len(generations) >= 2


def test_purchase_orders_csv_is_the_cli_export_and_the_app_draft(
    api_server: ApiServer, tmp_path: Path
) -> None:
    """One builder: `plan --export x.csv` writes the bytes the API serves for the plan it made,
    and the app's order review (`services.orders.draft_orders_for`) drafts the same orders."""
    from services.orders import draft_orders_for

    out = tmp_path / "orders.csv"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "forecasting",
            "--db",
            str(api_server.db),
            "plan",
            "--export",
            str(out),
        ],
        cwd=REPO,
        env=api_server.env,
        check=True,
        timeout=600,
        stdout=subprocess.DEVNULL,
    )
    st = api_server.db.stat()
    with api_server.client(api_server.tokens["viewer"]) as client:
        served = client.get("/v1/purchase-orders.csv")
    assert served.status_code == 200
    assert served.headers["x-shelfwise-generation"] == f"{st.st_ino}-{st.st_mtime_ns}"
    assert served.content == out.read_bytes()
    rows = pl.read_csv(out)
    assert rows.height > 0 and rows["order_number"].n_unique() > 1
    draft = draft_orders_for(api_server.db, None)
    key = ["order_number", "product_id"]
    assert (
        draft.select(*key, "quantity")
        .sort(key)
        .equals(rows.select(*key, pl.col("quantity").round(0).cast(pl.Int64)).sort(key))
    )


def test_a_panel_without_customers_says_why_there_are_no_lists(
    store_item_sample_db: Path, tmp_path: Path
) -> None:
    """Recommendations cannot be made from a store x item panel: 503 `not_applicable` with the
    reason (not "run python -m recsys train"); no plan yet stays 503 `not_ready`."""
    env = {**api_env(tmp_path), "SHELFWISE_DB": str(store_item_sample_db)}
    token = add_key(env, "viewer", "viewer")
    proc, url = start_server(store_item_sample_db, env, tmp_path / "server.log")
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            similar = client.get("/v1/products/1/similar?k=3", timeout=120)
            plan = client.get("/v1/reorder-plan?limit=5", timeout=120)
    finally:
        stop_server(proc)
    message = error_of(similar, 503, "not_applicable")
    assert message.startswith("no recommendations for this data: no sale has a customer id")
    assert "recsys train" not in message
    assert "forecasting plan" in error_of(plan, 503, "not_ready")
