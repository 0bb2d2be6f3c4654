"""The ranking stage on a real (small) demo warehouse: leakage, one ranking path, reasons,
--as-of, and the ranker in the registry."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
from dataclasses import fields, replace
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from recsys import service
from recsys.candidates import SourceConfig, fit_sources, generate
from recsys.cli import main
from recsys.data import TrainData, cut_before, load_train_data
from recsys.errors import RecsysError
from recsys.features import FEATURES, feature_matrix
from recsys.lists import rank_all, rank_build, rank_lists, serving_ranked
from recsys.ranked import RankBuild, Ranked, gather
from recsys.ranker import RankerConfig
from recsys.reasons import NAMEABLE, explained_feature
from recsys.refresh import train_and_register
from recsys.registry import load_latest
from recsys.service import BusinessRules, rules_mask
from recsys.train import TwoTowerConfig

FAST_TT = TwoTowerConfig(
    dim=16, epochs=1, max_examples_per_epoch=10_000, val_users=200, show_progress=False
)
FAST_RANKER = RankerConfig(
    cutoffs=(30.0, 60.0),
    horizon_days=30.0,
    num_boost_round=20,
    two_tower_examples=10_000,
    sources=SourceConfig(n=20),
)


@pytest.fixture(scope="module")
def ranked_db(demo_db_master: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("ranker") / "demo.duckdb"
    shutil.copyfile(demo_db_master, db)
    train_and_register(db, until=None, progress=False, config=FAST_TT, ranker_config=FAST_RANKER)
    return db


def test_no_feature_reads_a_sale_at_or_after_the_cutoff(demo_db_master: Path) -> None:
    data = load_train_data(demo_db_master)
    cutoff = data.as_of - 20.0
    users = np.unique(cut_before(data, cutoff).events["user"].to_numpy())[:150]
    planted = pl.DataFrame(
        {
            "user": np.repeat(users[:5].astype(np.int32), 2),
            "item": np.tile(np.array([0, 1], np.int32), 5),
            "order": np.arange(10, dtype=np.int32) + int(data.events["order"].max()) + 1,
            "t_days": np.tile([cutoff, cutoff + 3.0], 5),  # at the cutoff and after it
            "quantity": np.full(10, 50.0),
        },
        schema=data.events.schema,
    )
    future = type(data)(
        data.catalogue,
        data.user_ids,
        pl.concat([data.events, planted]),
        data.as_of,
        data.half_life_days,
    )
    matrices = []
    for source in (data, future):
        before = cut_before(source, cutoff)
        sources = fit_sources(before, SourceConfig(use_two_tower=False))
        cands = generate(sources, before, users)
        matrices.append(
            (cands.user, cands.item, feature_matrix(before, cands, sources.category_codes))
        )
    (u0, i0, x0), (u1, i1, x1) = matrices
    assert np.array_equal(u0, u1) and np.array_equal(i0, i1)
    np.testing.assert_array_equal(x0, x1)  # NaN positions equal too


def test_batch_and_single_lists_are_identical(ranked_db: Path) -> None:
    state = service.serving_state(ranked_db)
    customers = state.data.user_ids[:25]
    cases = [
        BusinessRules(),
        BusinessRules(exclude_purchased=False, max_per_category=2),
        BusinessRules(in_stock_only=True, min_price=1.0),
    ]
    for rules in cases:
        batch = service.bulk_recommendations(ranked_db, customers, k=10, rules=rules)
        assert batch["model"].unique().to_list() == ["ranker(lightgbm)"]
        assert service.model_status(ranked_db)["serving"]["lists"] == "ranker(lightgbm)"
        for customer in customers:
            single = service.recommend_for_customer(ranked_db, customer, 10, rules)
            rows = batch.filter(pl.col("customer_id") == customer)
            assert rows["product_id"].to_list() == single["product_id"].to_list()
            assert rows["reason"].to_list() == single["reason"].to_list()
            np.testing.assert_allclose(rows["score"].to_numpy(), single["score"].to_numpy())


def test_a_few_customers_ranked_alone_get_what_the_full_ranking_gives(ranked_db: Path) -> None:
    # right after start-up or a refresh a request ranks just its customers
    # (`serving_ranked`) while every customer is ranked in the background
    state = service.serving_state(ranked_db)
    users = np.unique(state.data.events["user"].to_numpy())
    few = users[:: max(len(users) // 7, 1)][:7]
    alone = rank_all(state.rank_model, state.data, few)
    full = serving_ranked(state, None)  # every customer (waits for the build)
    assert serving_ranked(state, few) is full  # once built, every request reads it
    for user in few:
        a = slice(alone.ptr[user], alone.ptr[user + 1])
        b = slice(full.ptr[user], full.ptr[user + 1])
        assert alone.item[a].tolist() == full.item[b].tolist()
        np.testing.assert_allclose(alone.unit[a], full.unit[b])


def test_a_command_line_ranks_a_few_customers_without_a_background_thread(
    ranked_db: Path,
) -> None:
    # a command line exits before a background ranking would end (and may abort inside it)
    state = service.serving_state(ranked_db)
    state.__dict__.pop("_rank_build", None)
    before = {t.name for t in threading.enumerate()}
    serving_ranked(state, np.arange(3))
    assert "recsys-rank-all" not in {t.name for t in threading.enumerate()} - before
    assert rank_build(state).full is None  # nobody ranked every customer


def test_everyone_ranked_in_chunks_equals_one_rank_all(ranked_db: Path) -> None:
    state = service.serving_state(ranked_db)
    users = np.unique(state.data.events["user"].to_numpy())
    one = rank_all(state.rank_model, state.data, users)
    build = RankBuild(partial(rank_all, state.rank_model, state.data), users, chunk=300)
    assert len(users) > 3 * 300  # several chunks, the last one short
    chunked = build.build()
    assert build.full is chunked and build.remaining == 0
    for field in fields(Ranked):  # NaN features compare equal
        np.testing.assert_array_equal(getattr(chunked, field.name), getattr(one, field.name))
    # a request's customers taken from the chunks done plus its own ranking of the rest
    few = users[::13]
    done = [rank_all(state.rank_model, state.data, users[lo : lo + 300]) for lo in (0, 300)]
    rest = rank_all(state.rank_model, state.data, few[few >= users[600]])
    joined, alone = gather([*done, rest], few), rank_all(state.rank_model, state.data, few)
    for field in fields(Ranked):
        np.testing.assert_array_equal(getattr(joined, field.name), getattr(alone, field.name))


def test_a_bulk_list_during_the_build_equals_the_list_after_it(ranked_db: Path) -> None:
    # the background build is held inside its second chunk; a bulk list for fewer customers
    # than those left ranks just them, and the build does not start a chunk meanwhile
    state = service.serving_state(ranked_db)
    users = np.unique(state.data.events["user"].to_numpy())
    inside, release, chunks_started = threading.Event(), threading.Event(), []
    paused_while_ranking: list[bool] = []

    def rank(chunk: np.ndarray) -> Ranked:
        if threading.current_thread().name == "recsys-rank-all":
            chunks_started.append(len(chunk))
            if len(chunks_started) == 2:
                inside.set()
                assert release.wait(60)
        elif not paused_while_ranking:  # the request's own ranking: let the build's chunk end
            seen = len(chunks_started)
            release.set()
            deadline = time.monotonic() + 30
            while build.remaining > len(users) - 2 * 200 and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.3)
            paused_while_ranking.append(len(chunks_started) == seen)
        return rank_all(state.rank_model, state.data, chunk)

    build = RankBuild(rank, users, chunk=200)
    state.__dict__["_rank_build"] = build
    try:
        customers = [state.data.user_ids[u] for u in users[::17][:40]]
        assert build.start() and inside.wait(60)
        during = service.bulk_recommendations(ranked_db, customers, k=10)
        assert paused_while_ranking == [True]  # no new chunk while the request ranked
        assert build.full is None and build.remaining > len(customers)
        everyone = build.build()  # waits for the background build to finish
        after = service.bulk_recommendations(ranked_db, customers, k=10)
        assert serving_ranked(state, users[:3]) is everyone
        assert during.height == 400
        assert_frame_equal(during, after)
    finally:
        release.set()
        build.stop(wait_s=60)
        state.__dict__.pop("_rank_build", None)


def test_reasons_name_the_largest_contribution(ranked_db: Path) -> None:
    state = service.serving_state(ranked_db)
    users = np.arange(40)
    rules = BusinessRules(exclude_purchased=False)
    ids, _, reasons, named = rank_lists(
        state, state.data, users, 10, rules, rules_mask(state, rules)
    )
    ranked = state.ranked_for(state.data)
    checked = 0
    for i, u in enumerate(users):
        assert len(reasons[i]) == int((ids[i] >= 0).sum())
        lo, hi = ranked.ptr[u], ranked.ptr[u + 1]
        for j, item in enumerate(ids[i]):
            if named[i, j] < 0:
                continue
            row = lo + int(np.flatnonzero(ranked.item[lo:hi] == item)[0])
            contrib = state.rank_model.model.contributions(ranked.x[row : row + 1])[0]
            assert named[i, j] == explained_feature(contrib[None, :])[0]
            assert contrib[named[i, j]] == contrib[NAMEABLE].max()
            feature = FEATURES[named[i, j]]
            text = reasons[i][j]
            if feature in ("ux_cycle_ratio", "ux_mean_gap") and "every" in text:
                gap = ranked.x[row, FEATURES.index("ux_mean_gap")]
                assert f"every {gap:.0f} day" in text
            if feature.startswith("together"):
                assert text.startswith("often bought with")
            checked += 1
    assert checked > 100


def test_as_of_cuts_histories_and_reproduces_the_list(
    ranked_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = service.serving_state(ranked_db)
    last = dt.date(1970, 1, 1) + dt.timedelta(days=int(state.data.as_of) - 1)
    as_of = last - dt.timedelta(days=60)
    past = service.serving_state(ranked_db, as_of)
    assert past.data.as_of == (as_of - dt.date(1970, 1, 1)).days + 1
    assert past.data.events["t_days"].max() < past.data.as_of
    assert past.data.events.height < state.data.events.height
    customer = past.data.user_ids[3]
    listed = service.recommend_for_customer(ranked_db, customer, 10, as_of=as_of)
    assert (
        main(
            [
                "--db",
                str(ranked_db),
                "--quiet",
                "recommend",
                customer,
                "--k",
                "10",
                "--as-of",
                as_of.isoformat(),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert all(p in printed for p in listed["product_id"].to_list())
    out = tmp_path / "lists.csv"
    assert (
        main(
            [
                "--db",
                str(ranked_db),
                "--quiet",
                "export",
                "--out",
                str(out),
                "--no-table",
                "--k",
                "10",
                "--exclude-purchased",
                "--as-of",
                as_of.isoformat(),
            ]
        )
        == 0
    )
    exported = pl.read_csv(out, infer_schema=False).filter(pl.col("customer_id") == customer)
    assert exported["product_id"].to_list() == listed["product_id"].to_list()
    assert main(["--db", str(ranked_db), "recommend", customer, "--as-of", "2024-13-01"]) == 1
    assert "--as-of" in capsys.readouterr().err


def test_ranker_is_versioned_and_checksummed(ranked_db: Path, tmp_path: Path) -> None:
    loaded = load_latest(ranked_db)
    assert loaded.ranker is not None and set(loaded.ranker.boosters) == {"own", "new"}
    assert {"ranker.json", "ranker_own.txt", "ranker_new.txt"} <= set(loaded.manifest["files"])
    meta = json.loads((loaded.path / "ranker.json").read_text())
    assert meta["config"]["cutoffs"] == [30.0, 60.0]
    copy = tmp_path / "demo.duckdb"
    shutil.copyfile(ranked_db, copy)
    root = copy.parent / "models" / copy.stem / "recsys"
    shutil.copytree(loaded.path, root / "v0001")
    shutil.copytree(loaded.path, root / "v0002")
    with open(root / "v0002" / "ranker_new.txt", "a", encoding="utf-8") as handle:
        handle.write("tampered")
    again = load_latest(copy)
    assert again.path.name == "v0001" and again.ranker is not None
    assert any("checksum" in why for why in again.skipped)


def test_basket_equals_the_basket_as_one_more_customer(ranked_db: Path) -> None:
    """The fast basket (its own events, the serving data's item statistics) lists what the
    basket gives as one more customer of the whole serving data."""
    state = service.serving_state(ranked_db)
    assert state.rank_model is not None
    base = state.data
    ids = base.catalogue.item_ids
    for picks in ([0, 1], [5, 9, 12]):
        fast = service.complete_basket(ranked_db, [ids[i] for i in picks], k=10)
        extra = pl.DataFrame(
            {
                "user": [base.n_users] * len(picks),
                "item": picks,
                "order": [int(base.events["order"].max()) + 1] * len(picks),
                "t_days": [base.as_of - 0.5] * len(picks),
                "quantity": [1.0] * len(picks),
            },
            schema=base.events.schema,
        )
        whole = TrainData(
            base.catalogue,
            [*base.user_ids, "__basket__"],
            pl.concat([base.events, extra]),
            base.as_of,
            base.half_life_days,
        )
        users = np.array([base.n_users])
        rules = BusinessRules(exclude_purchased=True)
        state.ranked_for(whole, users)
        best, _, _, _ = rank_lists(state, whole, users, 10, rules, rules_mask(state, rules))
        expected = [ids[i] for i in best[0] if i >= 0]
        assert fast["product_id"].to_list() == expected


def test_a_stopped_build_resumes_at_its_next_chunk() -> None:
    # a stopped background build (a replaced state, the process exiting) is resumed by the next
    # caller that needs every customer; no chunk is ranked twice and nothing half-built shows
    n_users, calls, gate = 10, [], threading.Event()

    def rank(users: np.ndarray) -> Ranked:
        calls.append(users.tolist())
        if len(calls) == 2:
            assert gate.wait(30)
        ptr = np.zeros(n_users + 1, np.int64)
        ptr[users + 1] = 1
        return Ranked(
            users.copy(),
            np.ones(len(users), np.float32),
            users[:, None].astype(np.float32),
            np.cumsum(ptr),
            users * 7,
            np.full(len(users), -1, np.int64),
            np.full(len(users), None, dtype=object),
        )

    build = RankBuild(rank, np.arange(n_users)[::-1], chunk=3)
    assert build.start() and not build.start()  # one builder at a time
    while len(calls) < 2:
        time.sleep(0.01)
    build.stop()
    gate.set()
    build.stop(wait_s=30)  # ends after the chunk in progress
    assert build.full is None and build.remaining == 4
    done = build.ranked(np.array([4, 1]))  # ranked already: taken from the chunks done
    assert len(calls) == 2 and done.item.tolist() == [1, 4] and done.ptr[-1] == 2
    everyone = build.build()
    assert calls == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert everyone.item.tolist() == list(range(n_users)) and everyone.ptr[-1] == n_users
    assert build.ranked(np.array([4])) is everyone and not build.start()


def test_a_window_holds_at_most_the_capped_customers(demo_db_master: Path) -> None:
    """`max_users_per_window` samples a window's customers (seeded), so a large shop's first
    training is bounded; None keeps every customer and draws nothing more from the generator."""
    from recsys.ranker import window_rows

    data = load_train_data(demo_db_master)
    base = replace(FAST_RANKER, sources=SourceConfig(n=20, use_two_tower=False))
    cutoff = data.as_of - 30.0
    full = window_rows(data, cutoff, base, np.random.default_rng(0))
    capped = window_rows(
        data, cutoff, replace(base, max_users_per_window=50), np.random.default_rng(0)
    )
    assert full is not None and capped is not None
    assert np.unique(full[2]).size > 50 >= np.unique(capped[2]).size > 0
    assert set(np.unique(capped[2])) <= set(np.unique(full[2]))
    with pytest.raises(RecsysError, match="max_users_per_window"):
        RankerConfig(max_users_per_window=0)
    from services.pipeline import RANKER_CONFIG

    assert RANKER_CONFIG.max_users_per_window == 4_000  # `make run`'s first training is bounded
