"""Keyed pseudonyms of customer ids: stable, keyed, null-safe, key kept outside the repo."""

from __future__ import annotations

import hashlib
import hmac
import stat
import threading
from pathlib import Path

import polars as pl
import pytest

from warehouse.db import WarehouseError
from warehouse.privacy import (
    KEY_ENV_VAR,
    KEY_FILE_ENV_VAR,
    REPO_ROOT,
    load_key,
    pseudonymise,
    pseudonymise_frame,
)

KEY = b"0123456789abcdef-test-key"


@pytest.fixture()
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Key file location in a temp folder, with the env key unset."""
    path = tmp_path / "config" / "pseudonym.key"
    monkeypatch.delenv(KEY_ENV_VAR, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV_VAR, str(path))
    return path


def test_pseudonym_is_the_hmac_sha256_of_the_id() -> None:
    out = pseudonymise(pl.Series("customer_id", ["17850"]), KEY)
    expected = hmac.new(KEY, b"17850", hashlib.sha256).hexdigest()[:20]
    assert out.to_list() == ["anon_" + expected]
    assert out.name == "customer_id" and out.dtype == pl.String


def test_stable_distinct_and_null_safe() -> None:
    ids = pl.Series("customer_id", ["17850", "13047", None, "17850"])
    first, second = pseudonymise(ids, KEY), pseudonymise(ids, KEY)
    assert first.to_list() == second.to_list()
    assert first[0] == first[3] and first[0] != first[1]
    assert first[2] is None
    assert all(v.startswith("anon_") and len(v) == 25 for v in first.drop_nulls())
    assert "17850" not in "".join(first.drop_nulls())


def test_another_key_gives_other_pseudonyms() -> None:
    ids = pl.Series(["17850", "13047"])
    assert set(pseudonymise(ids, KEY)).isdisjoint(pseudonymise(ids, KEY + b"x"))


def test_integer_ids_are_hashed_as_their_text() -> None:
    assert (
        pseudonymise(pl.Series([17850]), KEY).to_list()
        == pseudonymise(pl.Series(["17850"]), KEY).to_list()
    )


def test_short_key_is_refused() -> None:
    with pytest.raises(WarehouseError, match="at least 16 bytes"):
        pseudonymise(pl.Series(["1"]), b"short")


def test_many_ids_have_no_collisions() -> None:
    ids = pl.Series([str(i) for i in range(50_000)])
    assert pseudonymise(ids, KEY).n_unique() == 50_000


def test_key_file_is_created_once_private_and_reused(key_file: Path) -> None:
    key = load_key()
    assert key_file.exists() and len(key) == 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_key() == key


def test_concurrent_first_use_agrees_on_one_key(key_file: Path) -> None:
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(load_key())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and keys[0] == key_file.read_bytes()


def test_env_key_wins_and_must_be_long_enough(
    key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV_VAR, "a-long-enough-secret-key")
    assert load_key() == b"a-long-enough-secret-key"
    assert not key_file.exists()
    monkeypatch.setenv(KEY_ENV_VAR, "short")
    with pytest.raises(WarehouseError, match=KEY_ENV_VAR):
        load_key()


def test_key_file_inside_the_repo_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV_VAR, raising=False)
    monkeypatch.setenv(KEY_FILE_ENV_VAR, str(REPO_ROOT / "data" / "pseudonym.key"))
    with pytest.raises(WarehouseError, match="outside the repository"):
        load_key()
    assert not (REPO_ROOT / "data" / "pseudonym.key").exists()


def test_pseudonymise_frame_replaces_only_id_columns(key_file: Path) -> None:
    frame = pl.DataFrame(
        {"customer_id": ["17850", "13047"], "product_id": ["85123A", "22423"], "rank": [1, 1]}
    )
    out = pseudonymise_frame(frame)
    assert out["product_id"].to_list() == ["85123A", "22423"]
    assert out["customer_id"].to_list() == pseudonymise(frame["customer_id"], load_key()).to_list()
    assert pseudonymise_frame(frame.drop("customer_id"), KEY).equals(frame.drop("customer_id"))
