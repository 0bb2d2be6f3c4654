"""The SQL sandbox against hostile and broken input: refused or stopped, warehouse unchanged."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from warehouse.cli import main as cli_main
from warehouse.db import WarehouseError, reading, scalar
from warehouse.sandbox import (
    CUSTOMER_LEVEL_TABLES,
    MAX_QUERY_CHARS,
    QueryResult,
    SandboxRefusal,
    open_sandbox,
    run_sandboxed,
    safe_message,
    strip_comments,
)

TIMEOUT_S = 2.0


@pytest.fixture(scope="module")
def warehouse(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the small demo warehouse, alone in its folder."""
    path = tmp_path_factory.mktemp("sandbox") / "demo.duckdb"
    shutil.copyfile(demo_db_master, path)
    return path


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real local files of every kind a file reader could open (so a leak would succeed)."""
    folder = tmp_path_factory.mktemp("secrets")
    frame = pl.DataFrame({"secret": ["hunter2", "swordfish"], "n": [1, 2]})
    frame.write_csv(folder / "secret.csv")
    frame.write_parquet(folder / "secret.parquet")
    frame.write_ndjson(folder / "secret.json")
    (folder / "secret.txt").write_text("hunter2\n", encoding="utf-8")
    shutil.copyfile(folder / "secret.csv", folder / "secret.tsv")
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_listing(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


@dataclass(frozen=True)
class Case:
    """A hostile input and what must happen: 'refused', 'stopped' (timeout) or 'capped'."""

    name: str
    sql: str | bytes
    expect: str = "refused"
    says: str = ""  # a fragment the refusal message must contain (case-insensitive)
    role: str = "analyst"


S = "{secrets}"  # replaced by the secrets folder
OUT = "{out}"  # replaced by a folder where nothing may appear
W = "{warehouse}"  # replaced by the warehouse file's path

CASES: list[Case] = [
    # writes of every kind
    Case("insert", "INSERT INTO dim_store VALUES ('X', 'x', 'x', 'x')", says="not INSERT"),
    Case("update", "UPDATE dim_product SET unit_price = 0", says="not UPDATE"),
    Case("delete", "DELETE FROM fct_sales", says="not DELETE"),
    Case("drop", "DROP TABLE dim_store", says="not DROP"),
    Case("create table as", "CREATE TABLE stolen AS SELECT * FROM fct_sales", says="not CREATE"),
    Case("create view", "CREATE VIEW v AS SELECT 1", says="not CREATE"),
    Case("create temp table", "CREATE TEMP TABLE t (a INT)", says="not CREATE"),
    Case("create macro", "CREATE MACRO m(x) AS x", says="not CREATE"),
    Case("create secret", "CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", says="not CREATE"),
    Case("alter", "ALTER TABLE dim_store ADD COLUMN x INT", says="not ALTER"),
    Case("truncate", "TRUNCATE dim_store", says="not TRUNCATE"),
    Case(
        "merge",
        "MERGE INTO dim_store AS t USING dim_store AS s ON t.store_id = s.store_id "
        "WHEN MATCHED THEN DELETE",
        says="not MERGE",
    ),
    Case(
        "insert via cte",
        "WITH x AS (SELECT * FROM dim_store) INSERT INTO dim_store SELECT * FROM x",
        says="not",
    ),
    Case("comment on", "COMMENT ON TABLE dim_store IS 'x'", says="not COMMENT"),
    Case("transaction", "BEGIN TRANSACTION", says="not BEGIN"),
    Case("checkpoint", "CHECKPOINT", says="not CHECKPOINT"),
    Case("vacuum", "VACUUM", says="not VACUUM"),
    Case("prepare", "PREPARE p AS SELECT 1", says="not PREPARE"),
    # attach, detach, switching databases
    Case("attach", f"ATTACH '{OUT}/other.duckdb' AS other", says="not ATTACH"),
    Case("detach", "DETACH warehouse", says="not DETACH"),
    Case("use", "USE memory", says="not USE"),
    # copy, export, import
    Case("copy to csv", f"COPY dim_store TO '{OUT}/stores.csv'", says="not COPY"),
    Case(
        "copy query to parquet",
        f"COPY (SELECT * FROM fct_sales) TO '{OUT}/s.parquet' (FORMAT parquet)",
        says="not COPY",
    ),
    Case("copy from", f"COPY dim_store FROM '{S}/secret.csv'", says="not COPY"),
    Case("export database", f"EXPORT DATABASE '{OUT}/dump'", says="not EXPORT"),
    Case("import database", f"IMPORT DATABASE '{S}'", says="not IMPORT"),
    # extensions
    Case("install", "INSTALL httpfs", says="not INSTALL"),
    Case("load", "LOAD httpfs", says="not LOAD"),
    Case("load file", f"LOAD '{S}/evil.duckdb_extension'", says="not LOAD"),
    Case("update extensions", "UPDATE EXTENSIONS", says=""),
    # settings
    Case("set external access", "SET enable_external_access = true", says="not SET"),
    Case("reset", "RESET enable_external_access", says="not RESET"),
    Case("set memory", "SET memory_limit = '500GB'", says="not SET"),
    Case("set variable", "SET VARIABLE x = 1", says="not SET"),
    Case("pragma", "PRAGMA enable_profiling", says="not PRAGMA"),
    Case("pragma table function", "CALL pragma_version()", says="not CALL"),
    Case("call secrets", "CALL duckdb_secrets()", says="not CALL"),
    # file readers with local paths
    Case("read_csv", f"SELECT * FROM read_csv('{S}/secret.csv')", says="read_csv"),
    Case("read_csv_auto", f"SELECT * FROM read_csv_auto('{S}/secret.tsv')", says="read_csv_auto"),
    Case("read_parquet", f"SELECT * FROM read_parquet('{S}/secret.parquet')", says="read_parquet"),
    Case("parquet_scan", f"SELECT * FROM parquet_scan('{S}/secret.parquet')", says="parquet_scan"),
    Case(
        "parquet_metadata",
        f"SELECT * FROM parquet_metadata('{S}/secret.parquet')",
        says="parquet_metadata",
    ),
    Case("read_json", f"SELECT * FROM read_json('{S}/secret.json')", says="read_json"),
    Case("read_ndjson", f"SELECT * FROM read_ndjson_auto('{S}/secret.json')", says="read_ndjson"),
    Case("read_text", f"SELECT * FROM read_text('{S}/secret.txt')", says="read_text"),
    Case("read_blob", f"SELECT * FROM read_blob('{S}/secret.txt')", says="read_blob"),
    Case("glob", f"SELECT * FROM glob('{S}/*')", says="glob"),
    Case("sniff_csv", f"SELECT * FROM sniff_csv('{S}/secret.csv')", says="sniff_csv"),
    Case("read_duckdb", f"SELECT * FROM read_duckdb('{S}/other.duckdb')", says="read_duckdb"),
    Case("replacement scan", f"SELECT * FROM '{S}/secret.csv'", says=""),
    Case("quoted reader name", f"SELECT * FROM \"read_csv\"('{S}/secret.csv')", says="read_csv"),
    Case(
        "reader in subquery",
        f"SELECT 1 WHERE EXISTS (SELECT * FROM read_text('{S}/secret.txt'))",
        says="read_text",
    ),
    Case(
        "reader in cte",
        f"WITH t AS (SELECT * FROM read_parquet('{S}/secret.parquet')) SELECT * FROM t",
        says="read_parquet",
    ),
    Case(
        "reader under summarize",
        f"SUMMARIZE SELECT * FROM read_csv('{S}/secret.csv')",
        says="read_csv",
    ),
    Case(
        "reader under describe",
        f"DESCRIBE SELECT * FROM read_text('{S}/secret.txt')",
        says="read_text",
    ),
    Case(
        "reader under pivot",
        f"PIVOT (SELECT * FROM read_csv('{S}/secret.csv')) ON secret USING sum(n)",
        says="read_csv",
    ),
    Case(
        "reader under explain analyze",
        f"EXPLAIN ANALYZE SELECT * FROM read_csv('{S}/secret.csv')",
        says="read_csv",
    ),
    # secrets, environment, settings, SQL-from-text
    Case("duckdb_secrets", "SELECT * FROM duckdb_secrets()", says="duckdb_secrets"),
    Case("duckdb_settings", "SELECT * FROM duckdb_settings()", says="duckdb_settings"),
    Case("getenv", "SELECT getenv('HOME')", says="getenv"),
    Case("current_setting", "SELECT current_setting('memory_limit')", says="current_setting"),
    Case("query table function", "SELECT * FROM query('DROP TABLE dim_store')", says="query"),
    Case("query_table", "SELECT * FROM query_table('fct_sales')", says="query_table"),
    Case(
        "execute serialized",
        "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT 1'))",
        says="json_execute",
    ),
    # settings read through SHOW (`SHOW name` of a name that is no table shows that setting)
    Case("show setting", "SHOW secret_directory", says="settings are not readable"),
    Case("show setting quoted", 'SHOW "Temp_Directory"', says="settings are not readable"),
    Case(
        "show setting in subquery",
        "SELECT * FROM (SHOW extension_directory)",
        says="settings are not readable",
    ),
    Case(
        "show setting in cte",
        "WITH s AS (SHOW home_directory) SELECT * FROM s",
        says="settings are not readable",
    ),
    Case(
        "show setting under unpivot",
        "UNPIVOT (SHOW secret_directory) ON secret_directory INTO NAME k VALUE v",
        says="settings are not readable",
    ),
    Case(
        "show setting under summarize",
        "SUMMARIZE (SHOW secret_directory)",
        says="settings are not readable",
    ),
    Case(
        "show setting under pivot without IN",
        "PIVOT (SHOW secret_directory) ON secret_directory USING count(*)",
        says="SHOW",
    ),
    Case(
        "show setting under explain analyze",
        "EXPLAIN ANALYZE SHOW memory_limit",
        says="settings are not readable",
    ),
    # table functions outside the allowed list under a PIVOT without an IN list (DuckDB runs
    # part of such a PIVOT while planning, so they must be refused before the plan is built)
    Case(
        "unlisted table function under pivot without IN",
        "PIVOT (FROM pragma_storage_info('no_such_table')) ON column_name USING count(*)",
        says="table function pragma_storage_info()",
    ),
    Case(
        "settings table macro under pivot without IN",
        "PIVOT (FROM duckdb_profiling_settings()) ON name USING count(*)",
        says="table function duckdb_profiling_settings()",
    ),
    # where a home-made lexer and DuckDB's scanner disagree: `x€$a$` is one identifier to DuckDB,
    # a `)` inside a quoted EXPLAIN option value does not end the options
    Case(
        "dollar tag after a euro sign hides a call under pivot without IN",
        "PIVOT (SELECT 1 AS x\u20ac$a$, current_setting('secret_directory') AS k, 2 AS q$a$) "
        "ON k USING count(*)",
        says="current_setting",
    ),
    Case(
        "dollar tag after an emoji hides SHOW under pivot without IN",
        "PIVOT (SELECT 1 AS x\U0001f600$a$, s.* FROM (SHOW secret_directory) s, "
        "(SELECT 2 AS q$a$) t) ON secret_directory USING count(*)",
        says="SHOW",
    ),
    Case(
        "quoted call split by a comment under pivot without IN",
        "PIVOT (SELECT 1 AS x\u00b7$a$, '--', \"current_setting\"/* c */('secret_directory') AS k, "
        "2 AS q$a$) ON k USING count(*)",
        says="current_setting",
    ),
    Case(
        "dollar tag hides a table function under pivot without IN",
        "PIVOT (SELECT 1 AS x\u20ac$a$, s.* FROM pragma_metadata_info() s, (SELECT 2 AS q$a$) t) "
        "ON block_id USING count(*)",
        says="table function pragma_metadata_info()",
    ),
    Case(
        "explain option value hides the statement",
        "EXPLAIN (ANALYZE \"x) SELECT 1 AS \") SELECT current_setting('secret_directory') AS k, "
        "'\" , 2 AS z --' AS z",
        says="EXPLAIN must be followed",
    ),
    Case(
        "explain option value hides a customer read",
        'EXPLAIN (ANALYZE "x) SELECT 1 AS ") SELECT customer_id, \'" , 2 AS z --\' AS z '
        "FROM dim_customer WHERE customer_id = 'C000001'",
        says="EXPLAIN must be followed",
        role="viewer",
    ),
    # the warehouse file by its path: DuckDB opened it while planning (it is attached), and the
    # error then told whether a guessed path was the warehouse's
    Case("the warehouse file by its path", f"SELECT * FROM '{W}'", says="file path"),
    Case("the warehouse file under summarize", f"SUMMARIZE '{W}'", says="file path"),
    Case(
        "the warehouse file under pivot without IN",
        f"PIVOT '{W}' ON store_id USING count(*)",
        says="file path",
    ),
    Case(
        "the warehouse file in a FROM list under pivot without IN",
        f"PIVOT (SELECT s.* FROM dim_store s, '{W}' w) ON region USING count(*)",
        says="file path",
    ),
    Case(
        "the warehouse file as a quoted name under pivot without IN",
        f'PIVOT (FROM "{W}") ON store_id USING count(*)',
        says="file path",
    ),
    # stacked statements hidden in comments and strings
    Case("stacked", "SELECT 1; DROP TABLE dim_store", says="one statement"),
    Case("stacked after comment", "SELECT 1 /* ; */ ; DELETE FROM dim_store", says="one statement"),
    Case("stacked after string", "SELECT ';' AS a; DROP TABLE dim_store", says="one statement"),
    Case(
        "stacked after dollar string",
        f"SELECT $$;$$; COPY dim_store TO '{OUT}/x.csv'",
        says="one statement",
    ),
    Case("write behind a comment", "/* SELECT */ DROP TABLE dim_store -- SELECT", says="not DROP"),
    Case("write after line comment", "-- SELECT 1\nDROP TABLE dim_store", says="not DROP"),
    Case(
        "nested comment",
        "SELECT 1 /* /* */ ; DROP TABLE dim_store */; DELETE FROM dim_store",
        says="",
    ),
    Case(
        "explain analyze copy", f"EXPLAIN ANALYZE COPY dim_store TO '{OUT}/x.csv'", says="not COPY"
    ),
    Case("explain analyze create", "EXPLAIN ANALYZE CREATE TABLE x AS SELECT 1", says="not CREATE"),
    # runaway queries
    Case(
        "endless recursive cte",
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t",
        expect="stopped",
    ),
    Case(
        "huge cross join",
        "SELECT count(*) FROM range(300000) a, range(300000) b WHERE a.range + b.range = -1",
        expect="stopped",
    ),
    Case(
        "huge cross join build side",
        "SELECT count(*) FROM range(1000000000) a, range(1000000000) b",
        expect="refused or stopped",
    ),
    Case(
        "huge cross join rows",
        "SELECT * FROM fct_sales_daily a, fct_sales_daily b",
        expect="capped",
    ),
    Case("memory hog", "SELECT list(range) FROM range(2000000000)", expect="refused or stopped"),
    # broken input
    Case("syntax error", "SELEC * FORM dim_store", says="does not parse"),
    Case("unknown table", "SELECT * FROM no_such_table", says="no_such_table"),
    Case("empty", "", says="empty"),
    Case("blank and semicolons", "  ;\n ; ", says="empty"),
    Case("comment only", "-- nothing here\n/* nor here */", says="empty"),
    Case("1 MB query", "SELECT " + " + ".join(["1"] * 350_000), says="limit"),
    Case("non-UTF-8 bytes", b"SELECT '\xff\xfe' AS x", says="UTF-8"),
    Case("lone surrogate", "SELECT '\udcff' AS x", says="UTF-8"),
    Case("NUL character", "SELECT 1\x00; DROP TABLE dim_store", says="NUL"),
]


def _fill(sql: str | bytes, secrets: Path, out: Path, warehouse: Path) -> str | bytes:
    if isinstance(sql, bytes):
        return sql
    return sql.replace(S, str(secrets)).replace(OUT, str(out)).replace(W, str(warehouse))


def test_there_are_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_refused_or_stopped_and_changes_nothing(
    case: Case, warehouse: Path, secrets_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    before_sum, before_files = sha256(warehouse), folder_listing(warehouse)
    sql = _fill(case.sql, secrets_dir, out, warehouse)

    started = time.perf_counter()
    try:
        result: QueryResult | None = run_sandboxed(
            warehouse, sql, max_rows=100, timeout_s=TIMEOUT_S, role=case.role
        )
        message = ""
    except SandboxRefusal as exc:
        result, message = None, str(exc)
    elapsed = time.perf_counter() - started

    if case.expect == "refused":
        assert result is None, f"{case.name} ran: {result}"
        assert case.says.lower() in message.lower(), message
        assert "time limit" not in message
    elif case.expect == "stopped":
        assert result is None and "time limit" in message, message
    elif case.expect == "capped":
        assert result is not None and result.truncated and result.frame.height == 100
    else:  # refused or stopped
        assert result is None, f"{case.name} ran"
    assert "\n" not in message and "Traceback" not in message
    assert "hunter2" not in message
    assert str(warehouse.parent) not in message and str(Path.home()) not in message
    # a stopped query ends near its limit, not when it would have finished (generous bound)
    assert elapsed < TIMEOUT_S * 5 + 5

    assert sha256(warehouse) == before_sum
    assert folder_listing(warehouse) == before_files
    assert list(out.iterdir()) == []
    # the app is still serving
    stores = run_sandboxed(warehouse, "SELECT count(*) AS n FROM dim_store", timeout_s=TIMEOUT_S)
    assert stores.frame["n"][0] == 2


def test_a_string_with_a_semicolon_is_one_statement(warehouse: Path) -> None:
    result = run_sandboxed(warehouse, "SELECT 'a; DROP TABLE dim_store' AS s -- trailing ;")
    assert result.frame.to_dicts() == [{"s": "a; DROP TABLE dim_store"}]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT store_id FROM dim_store ORDER BY store_id",
        "WITH s AS (SELECT store_id FROM dim_store) SELECT * FROM s ORDER BY store_id",
        "FROM dim_store SELECT store_id ORDER BY store_id",
        "DESCRIBE dim_store",
        "SHOW TABLES",
        "SUMMARIZE dim_store",
        "EXPLAIN SELECT * FROM dim_store",
        "EXPLAIN ANALYZE SELECT count(*) FROM dim_store",
        "EXPLAIN (FORMAT json, ANALYZE) SELECT count(*) FROM dim_store",
        "EXPLAIN ANALYZE (SELECT count(*) FROM dim_store)",
        "PIVOT fct_sales_daily ON store_id USING sum(units) GROUP BY product_id",
        "SELECT * FROM range(3)",
        "SELECT histogram(category) FROM dim_product",
        "SELECT table_name FROM duckdb_tables() ORDER BY 1",
        "SHOW dim_store",
        "SHOW warehouse.main.dim_store",
        "SHOW ALL TABLES",
        "SELECT " + " + ".join(["units"] * 900) + " AS u FROM fct_sales_daily",  # a deep tree
    ],
)
def test_read_kinds_run(warehouse: Path, sql: str) -> None:
    result = run_sandboxed(warehouse, sql, max_rows=5000)
    assert result.frame.height > 0
    assert result.elapsed_s > 0


ORDINARY_QUERIES = [
    # window functions with a frame, over a CTE
    "WITH d AS (SELECT sale_date, sum(units) AS units FROM fct_sales_daily GROUP BY 1) "
    "SELECT sale_date, avg(units) OVER (ORDER BY sale_date ROWS BETWEEN 6 PRECEDING "
    "AND CURRENT ROW) AS units_7d, rank() OVER (ORDER BY units DESC) AS r FROM d ORDER BY 1",
    # QUALIFY: best day of each store
    "SELECT store_id, product_id, sale_date, units FROM fct_sales_daily "
    "QUALIFY row_number() OVER (PARTITION BY store_id ORDER BY units DESC) = 1",
    # PIVOT with an IN list
    "PIVOT fct_sales_daily ON store_id IN ('S001', 'S002') USING sum(units) GROUP BY product_id",
    # ASOF JOIN: the last stock snapshot on or before each sales day
    "SELECT d.store_id, d.product_id, d.sale_date, i.on_hand_units FROM fct_sales_daily d "
    "ASOF JOIN fct_inventory i ON d.store_id = i.store_id AND d.product_id = i.product_id "
    "AND d.sale_date >= i.snapshot_date",
    # list and struct functions on a mart
    "SELECT store_id, list_sort(list_distinct(list(product_id)))[1:3] AS first_products, "
    "struct_pack(days := count(DISTINCT sale_date), units := sum(units)) AS totals, "
    "list_transform([1, 2, 3], lambda x: x * 2) AS doubled FROM fct_sales_daily GROUP BY store_id",
    # a bounded recursive CTE, UNPIVOT, and a string literal that mentions SHOW and query
    "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 10) "
    "SELECT sum(n) AS s, 'show the query' AS note FROM t",
    "UNPIVOT (SELECT store_id, sum(units) AS units, sum(revenue) AS revenue FROM fct_sales_daily "
    "GROUP BY 1) ON units, revenue INTO NAME measure VALUE amount",
    "PIVOT (SELECT store_id, units, 'show' AS note FROM fct_sales_daily) ON store_id "
    "USING sum(units) GROUP BY note",
    # strings with / and . in a PIVOT without an IN list are not file paths unless in FROM
    "PIVOT (SELECT d.store_id, d.units, 'N/A' AS note, 'v1.2' AS version FROM fct_sales_daily d, "
    "dim_store s WHERE s.store_id = d.store_id AND s.region IN ('North', 'a/b')) ON store_id "
    "USING sum(units) GROUP BY note, version",
    # samples (their syntax tree holds a constant's type as a dict under "type": it crashed the
    # check, and every SAMPLE query was refused as "the database refused it")
    "SELECT * FROM fct_sales_daily USING SAMPLE 5",
    "SELECT count(*) AS n FROM fct_sales_daily USING SAMPLE 10% (bernoulli)",
    "SELECT * FROM fct_sales_daily TABLESAMPLE reservoir(3 ROWS) REPEATABLE (42)",
]


@pytest.mark.parametrize("role", ["viewer", "analyst"])
@pytest.mark.parametrize(
    "sql", ORDINARY_QUERIES, ids=[f"q{i}" for i in range(len(ORDINARY_QUERIES))]
)
def test_ordinary_analyst_queries_run_for_every_role(warehouse: Path, sql: str, role: str) -> None:
    """No false refusals: window functions, CTEs, PIVOT, QUALIFY, ASOF JOIN, lists and structs."""
    result = run_sandboxed(warehouse, sql, max_rows=50, timeout_s=10, role=role)
    assert result.frame.height > 0


def test_pivot_gives_one_column_per_store(warehouse: Path) -> None:
    result = run_sandboxed(
        warehouse,
        "PIVOT fct_sales_daily ON store_id USING sum(units) GROUP BY product_id",
        max_rows=5000,
    )
    with reading(warehouse) as con:
        stores = scalar(con, "SELECT count(*) FROM dim_store")
        total = scalar(con, "SELECT sum(units) FROM fct_sales_daily")
    assert result.frame.width == 1 + stores
    assert result.frame.drop("product_id").sum().sum_horizontal()[0] == pytest.approx(total)


def test_row_cap_and_truncated_flag(warehouse: Path) -> None:
    capped = run_sandboxed(warehouse, "SELECT * FROM range(2500) t(i) ORDER BY i", max_rows=1000)
    assert capped.truncated and capped.frame.height == 1000
    assert capped.frame["i"].to_list() == list(range(1000))
    exact = run_sandboxed(warehouse, "SELECT * FROM range(1000)", max_rows=1000)
    assert not exact.truncated and exact.frame.height == 1000
    none = run_sandboxed(warehouse, "SELECT store_id, region FROM dim_store", max_rows=0)
    assert none.truncated and none.frame.height == 0
    assert none.frame.columns == ["store_id", "region"]


def test_repeated_column_names_are_made_unique(warehouse: Path) -> None:
    result = run_sandboxed(warehouse, "SELECT 1 AS a, 2 AS a, 3 AS a_2")
    assert result.frame.columns == ["a", "a_2", "a_2_2"]
    assert result.frame.row(0) == (1, 2, 3)


def test_column_types_survive(warehouse: Path) -> None:
    result = run_sandboxed(
        warehouse, "SELECT sale_date, units, store_id FROM fct_sales_daily", max_rows=10
    )
    assert result.frame.schema == pl.Schema(
        {"sale_date": pl.Date, "units": pl.Float64, "store_id": pl.String}
    )


def test_dates_beyond_python_come_back_as_text_that_prints(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`'infinity'::DATE` made polars panic (a BaseException) when printed or turned into rows:
    the CLI printed a Rust backtrace and the HTTP API failed. Such columns now come as text."""
    sql = (
        "SELECT 'infinity'::DATE AS d, ['-infinity'::TIMESTAMP] AS l, "
        "{'a': '20000-01-01'::DATE} AS s, MAP {'infinity'::DATE: 1} AS m, DATE '2024-01-02' AS ok"
    )
    result = run_sandboxed(warehouse, sql)
    assert result.frame.rows() == [
        ("infinity", "[-infinity]", "{'a': 20000-01-01}", "{infinity=1}", date(2024, 1, 2))
    ]
    assert "infinity" in str(result.frame)
    assert cli_main(["--db", str(warehouse), "sql", sql]) == 0
    assert "infinity" in capsys.readouterr().out
    daily = run_sandboxed(warehouse, "SELECT sale_date FROM fct_sales_daily", max_rows=3)
    assert daily.frame.schema["sale_date"] == pl.Date  # ordinary dates stay dates


def test_timeout_is_configurable(warehouse: Path) -> None:
    endless = "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT max(n) FROM t"
    with pytest.raises(SandboxRefusal, match=r"0\.5 s time limit"):
        run_sandboxed(warehouse, endless, timeout_s=0.5)


@pytest.mark.parametrize("role", ["viewer", "merchandiser"])
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM fct_sales",
        "SELECT count(*) FROM dim_customer",
        "SELECT * FROM stg_customers",  # a view over raw_customer
        "SELECT customer_id FROM fct_sales_daily d JOIN fct_sales s USING (store_id) LIMIT 1",
        "SELECT 1 WHERE EXISTS (SELECT * FROM raw_sales_line)",
        "SUMMARIZE fct_sales",
        "PIVOT fct_sales ON store_id USING count(*) GROUP BY customer_id",
        "EXPLAIN ANALYZE SELECT * FROM dim_customer",
        "SELECT * FROM 'fct_sales'",  # a string in FROM names a table
        "PIVOT 'dim_customer' ON region USING count(*)",
        "PIVOT (FROM 'FCT_SALES' WHERE quantity > 1) ON store_id USING count(*)",
        "SHOW dim_customer",
        "SELECT * FROM customer_rfm",  # customer-level by its customer_id column
        "SELECT * FROM fct_sales USING SAMPLE 1",
    ],
)
def test_roles_below_analyst_cannot_read_customer_level_tables(
    warehouse: Path, role: str, sql: str
) -> None:
    with pytest.raises(SandboxRefusal, match="customer-level data"):
        run_sandboxed(warehouse, sql, role=role)


def test_a_pivot_without_in_list_is_refused_before_it_runs_on_customer_data(
    warehouse: Path,
) -> None:
    """No one-bit oracle for viewers: DuckDB runs a PIVOT's value query while planning, so a
    refusal that came only after the plan would differ (an error or not) with the customer rows."""
    with reading(warehouse) as con:
        customer = scalar(con, "SELECT min(customer_id) FROM fct_sales WHERE store_id = 'S001'")
    messages = set()
    for who in (customer, "C999999"):
        sql = (
            f"PIVOT (FROM 'fct_sales' WHERE customer_id = '{who}') ON store_id "
            "USING count(*) GROUP BY S001"
        )
        with pytest.raises(SandboxRefusal) as refused:
            run_sandboxed(warehouse, sql, role="viewer", timeout_s=TIMEOUT_S)
        messages.add(str(refused.value))
    assert messages == {
        "role 'viewer' may not read customer-level data (fct_sales); ask for the analyst role"
    }


def test_analysts_read_customer_tables_and_viewers_read_aggregates(warehouse: Path) -> None:
    for role in ("analyst", "admin"):
        assert (
            run_sandboxed(warehouse, "SELECT * FROM fct_sales", max_rows=3, role=role).frame.height
            == 3
        )
    daily = run_sandboxed(warehouse, "SELECT sum(units) AS u FROM fct_sales_daily", role="viewer")
    assert daily.frame["u"][0] > 0
    assert {"fct_sales", "dim_customer", "recommendations"} <= CUSTOMER_LEVEL_TABLES


def test_unknown_role_is_refused(warehouse: Path) -> None:
    with pytest.raises(SandboxRefusal, match="unknown role 'root'"):
        run_sandboxed(warehouse, "SELECT 1", role="root")


def test_missing_warehouse_is_a_clear_refusal(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="no warehouse here"):
        run_sandboxed(tmp_path / "nope.duckdb", "SELECT 1")


def test_max_query_length_is_documented_in_the_message(warehouse: Path) -> None:
    with pytest.raises(SandboxRefusal, match=f"{MAX_QUERY_CHARS:,}"):
        run_sandboxed(warehouse, "SELECT 1" + " " * MAX_QUERY_CHARS)


def test_strip_comments_keeps_strings() -> None:
    sql = "SELECT '--not a comment' /* c1 /* nested */ c2 */, $$/*x*/$$ -- end"
    assert strip_comments(sql).split() == ["SELECT", "'--not", "a", "comment'", ",", "$$/*x*/$$"]


def test_cli_sql_refusal_is_one_line_exit_2(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_main(["--db", str(warehouse), "sql", "DROP TABLE dim_store"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().count("\n") == 0 and err.startswith("error: only read queries")


def test_cli_sql_prints_rows_time_and_truncation(
    warehouse: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_main(["--db", str(warehouse), "sql", "SELECT * FROM range(10)", "--max-rows", "4"])
    out = capsys.readouterr().out
    assert code == 0
    assert "4 row(s) in" in out and "truncated" in out


def test_refusals_are_json_safe_one_liners(warehouse: Path) -> None:
    """Messages go to a web page: one line, printable."""
    for case in CASES[:20]:
        try:
            run_sandboxed(warehouse, case.sql, timeout_s=TIMEOUT_S)
        except SandboxRefusal as exc:
            assert json.loads(json.dumps(str(exc))) == str(exc)
            assert "\n" not in str(exc)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('{secrets}/secret.csv')",
        "SELECT * FROM glob('{secrets}/*')",
        "COPY dim_store TO '{secrets}/leak.csv'",
        "ATTACH '{secrets}/other.duckdb' AS other",
        "INSERT INTO dim_store SELECT * FROM dim_store",
        "SET enable_external_access = true",
        "SET memory_limit = '100GB'",
        "INSTALL httpfs",
    ],
)
def test_the_connection_itself_refuses_when_the_checks_are_bypassed(
    warehouse: Path, secrets_dir: Path, sql: str
) -> None:
    """Defence in depth: even SQL that skipped every check cannot read files or write."""
    before = sha256(warehouse)
    con = open_sandbox(warehouse)
    try:
        with pytest.raises(duckdb.Error):
            con.execute(sql.replace("{secrets}", str(secrets_dir))).fetchall()
    finally:
        con.close()
    assert sha256(warehouse) == before
    assert not (secrets_dir / "leak.csv").exists()


@pytest.mark.parametrize("kind", ["TypeError", "KeyError", "AttributeError", "RecursionError"])
def test_a_fault_of_the_workbench_is_not_blamed_on_the_database(kind: str) -> None:
    """Python's own errors (a bug in the checks) say so, with the log reference, instead of
    "the database refused it" (what a USING SAMPLE query got from a TypeError in the checks)."""
    message = safe_message(kind, "unhashable type: 'dict'", "SELECT 1", 30.0)
    assert "internal error, not a fault of the query" in message
    assert "database refused" not in message and "unhashable" not in message
    assert "ref " in message
    database = safe_message("ConstraintException", "x", "SELECT 1", 30.0)
    assert "internal error" not in database
