"""The sandbox's text layer: UTF-8, no NUL, bounded length, comments stripped by a small lexer."""

from __future__ import annotations

import re
from collections.abc import Iterator

from warehouse.sandbox.policy import MAX_QUERY_CHARS, SandboxRefusal


def clean_text(sql: str | bytes) -> str:
    """The query as one line-safe string without comments or trailing semicolons.

    Raises:
        SandboxRefusal: not UTF-8, a NUL character, too long, or empty.
    """
    if isinstance(sql, bytes | bytearray):
        try:
            sql = bytes(sql).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SandboxRefusal(f"the query is not valid UTF-8 (byte {exc.start})") from exc
    if not isinstance(sql, str):
        raise SandboxRefusal(f"the query must be text, not {type(sql).__name__}")
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SandboxRefusal(f"the query is not valid UTF-8 (character {exc.start})") from exc
    if "\x00" in sql:
        raise SandboxRefusal("the query contains a NUL character")
    if len(sql) > MAX_QUERY_CHARS:
        raise SandboxRefusal(
            f"the query is {len(sql):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
        )
    text = strip_comments(sql).strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if not text:
        raise SandboxRefusal("empty query: write one SELECT (or WITH, DESCRIBE, SHOW, ...)")
    return text


def segments(sql: str) -> Iterator[tuple[str, str]]:
    """Split SQL into (kind, text) with kind in code, string, quoted, comment."""
    i, n, start = 0, len(sql), 0
    while i < n:
        ch, nxt = sql[i], sql[i + 1] if i + 1 < n else ""
        kind, end = None, i
        if ch == "-" and nxt == "-":
            kind, end = "comment", _find(sql, "\n", i + 2)
        elif ch == "/" and nxt == "*":
            kind, end = "comment", _block_comment_end(sql, i)
        elif ch == "'":
            escaped = i > 0 and sql[i - 1] in "eE" and (i < 2 or not _ident(sql[i - 2]))
            kind, end = "string", _quote_end(sql, i, "'", backslash=escaped)
        elif ch == '"':
            kind, end = "quoted", _quote_end(sql, i, '"', backslash=False)
        elif ch == "$":
            match = re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])
            if match and (i == 0 or not _ident(sql[i - 1])):
                tag = match.group(0)
                close = sql.find(tag, i + len(tag))
                kind, end = "string", (n if close < 0 else close + len(tag))
        if kind is None:
            i += 1
            continue
        if start < i:
            yield "code", sql[start:i]
        yield kind, sql[i:end]
        i = start = end
    if start < n:
        yield "code", sql[start:]


def _ident(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _find(sql: str, needle: str, start: int) -> int:
    pos = sql.find(needle, start)
    return len(sql) if pos < 0 else pos


def _block_comment_end(sql: str, i: int) -> int:
    depth, j = 0, i
    while j < len(sql):
        if sql.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif sql.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    return len(sql)


def _quote_end(sql: str, i: int, quote: str, *, backslash: bool) -> int:
    j = i + 1
    while j < len(sql):
        if backslash and sql[j] == "\\":
            j += 2
        elif sql[j] == quote:
            if sql.startswith(quote * 2, j):
                j += 2
            else:
                return j + 1
        else:
            j += 1
    return len(sql)


def strip_comments(sql: str) -> str:
    """`sql` with every `--` and `/* */` comment replaced by a space (strings kept)."""
    return "".join(" " if kind == "comment" else text for kind, text in segments(sql))


def first_word(text: str) -> str:
    """The first keyword of `text`, lower-cased ('' when none)."""
    match = re.match(r"[\s(]*([A-Za-z_]+)", text)
    return match.group(1).lower() if match else ""
