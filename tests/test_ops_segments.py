"""RFM segments on the whole of Online Retail II, loaded with `--db` after the sub-command.

Skips without the shared data. The rules are in warehouse/sql/marts/customer_rfm.sql and
docs/DATA.md ("Customer segments").
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl

from warehouse.db import query, reading

ROOT = Path(__file__).resolve().parents[1]
RFM_SEGMENTS = {
    "new",
    "champions",
    "loyal",
    "potential_loyal",
    "promising",
    "at_risk",
    "needs_attention",
    "hibernating",
    "lost",
}


def test_online_retail_customers_get_rfm_segments(online_retail_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "or.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "warehouse",
            "ingest",
            "online-retail",
            str(online_retail_file),
            "--db",
            str(db),
            "--quiet",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Load report: online-retail" in done.stdout
    with reading(db) as con:
        counts = query(con, "select segment, count(*) as n from dim_customer group by 1")
        rfm = query(con, "select * from customer_rfm")
    total = int(counts["n"].sum())
    with_segment = int(counts.filter(pl.col("segment").is_not_null())["n"].sum())
    print(counts.sort("n", descending=True))
    assert total > 4000
    assert with_segment / total >= 0.95
    assert set(counts["segment"].drop_nulls()) <= RFM_SEGMENTS
    assert len(set(counts["segment"].drop_nulls())) >= 6  # the rules spread customers out
    # the scores follow the documented direction: champions are recent, frequent, big spenders
    champions = rfm.filter(pl.col("rfm_segment") == "champions")
    lost = rfm.filter(pl.col("rfm_segment") == "lost")
    assert champions["recency_days"].median() < lost["recency_days"].median()
    assert champions["frequency"].median() > lost["frequency"].median()
    assert champions["monetary"].median() > lost["monetary"].median()
