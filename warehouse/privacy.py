"""Pseudonymous customer ids for exports: a keyed hash, stable for one key, useless without it.

`pseudonymise` maps each id to `anon_` + the first 20 hex digits (80 bits) of
HMAC-SHA256(key, id). The same id always gets the same pseudonym under one key, so exports can
still be joined with each other; without the key the ids cannot be recovered or recomputed (a
plain hash of a short numeric id could be reversed by trying every id).

The key comes from `$SHELFWISE_PSEUDONYM_KEY` (at least 16 characters), else from a key file
outside the repository (`$SHELFWISE_PSEUDONYM_KEY_FILE`, default
`~/.config/shelfwise/pseudonym.key`), which is created with 32 random bytes and mode 0600 on first
use. Rotating the key (deleting the file) changes every pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from warehouse.db import WarehouseError

KEY_ENV_VAR = "SHELFWISE_PSEUDONYM_KEY"
KEY_FILE_ENV_VAR = "SHELFWISE_PSEUDONYM_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/shelfwise/pseudonym.key")
PREFIX = "anon_"
DIGEST_HEX_CHARS = 20
MIN_KEY_BYTES = 16
KEY_FILE_BYTES = 32
REPO_ROOT = Path(__file__).resolve().parents[1]


def pseudonymise(customer_ids: pl.Series, key: bytes) -> pl.Series:
    """Keyed pseudonyms of customer ids.

    Args:
        customer_ids: ids as text (other types are cast to text); nulls stay null.
        key: secret key, at least `MIN_KEY_BYTES` bytes (see `load_key`).

    Returns:
        A String series of the same length and name: `anon_` + 20 hex digits per id.
    """
    if not isinstance(key, bytes | bytearray) or len(key) < MIN_KEY_BYTES:
        raise WarehouseError(f"pseudonym key must be at least {MIN_KEY_BYTES} bytes")
    key = bytes(key)
    text = customer_ids.cast(pl.String)
    cache: dict[str, str] = {}

    def one(value: str | None) -> str | None:
        if value is None:
            return None
        hit = cache.get(value)
        if hit is None:
            digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
            hit = cache[value] = PREFIX + digest[:DIGEST_HEX_CHARS]
        return hit

    return pl.Series(customer_ids.name, [one(v) for v in text.to_list()], dtype=pl.String)


def pseudonymise_frame(
    frame: pl.DataFrame, key: bytes | None = None, columns: Sequence[str] = ("customer_id",)
) -> pl.DataFrame:
    """`frame` with the named id columns pseudonymised (columns it lacks are ignored).

    Args:
        frame: e.g. a recommendations export.
        key: secret key; None reads it with `load_key()`.
        columns: id columns to replace.
    """
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    key = load_key() if key is None else key
    return frame.with_columns([pseudonymise(frame[c], key) for c in present])


def key_file_path() -> Path:
    """Where the key file lives: $SHELFWISE_PSEUDONYM_KEY_FILE or ~/.config/shelfwise/."""
    env = os.environ.get(KEY_FILE_ENV_VAR)
    return Path(env).expanduser() if env else DEFAULT_KEY_FILE.expanduser()


def load_key() -> bytes:
    """The pseudonym key: $SHELFWISE_PSEUDONYM_KEY, else the key file (created on first use)."""
    env = os.environ.get(KEY_ENV_VAR)
    if env is not None:
        key = env.encode("utf-8")
        if len(key) < MIN_KEY_BYTES:
            raise WarehouseError(
                f"${KEY_ENV_VAR} is too short ({len(key)} bytes); use at least {MIN_KEY_BYTES}"
            )
        return key
    path = key_file_path()
    if path.resolve().is_relative_to(REPO_ROOT):
        raise WarehouseError(
            f"{path}: the pseudonym key file must live outside the repository "
            f"(set ${KEY_FILE_ENV_VAR} or ${KEY_ENV_VAR})"
        )
    if not path.exists():
        _create_key_file(path)
    key = path.read_bytes()
    if len(key) < MIN_KEY_BYTES:
        raise WarehouseError(
            f"{path}: pseudonym key file holds {len(key)} bytes; need at least {MIN_KEY_BYTES} "
            "(delete it to create a new key; every pseudonym will change)"
        )
    return key


def _create_key_file(path: Path) -> None:
    """Write a random key with mode 0600, atomically; a concurrent creator's file wins."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secrets.token_bytes(KEY_FILE_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process created the key meanwhile
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
