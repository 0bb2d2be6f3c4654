"""The query's tokens as DuckDB's own scanner reads them (`duckdb.tokenize`), for the word checks.

The checks that look at words rather than at a syntax tree (a PIVOT without an IN list, where the
EXPLAIN'ed statement starts) must see strings, quoted names and comments exactly where DuckDB
sees them. A home-made lexer disagreed at the edges: `x€$a$` is one identifier to DuckDB but the
start of a dollar-quoted string to a lexer that thinks `€` ends a name, which hid a
`current_setting(...)` call; and `EXPLAIN (ANALYZE "x) ...") SELECT ...` put a `)` inside a quoted
option value. DuckDB's tokenizer is the same scanner its parser uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Token:
    """One token: DuckDB's kind (identifier, keyword, string_const, numeric_const, operator,
    comment), its text without surrounding space, and its character offset in the query."""

    kind: str
    text: str
    start: int


def tokenize(text: str) -> list[Token]:
    """The tokens of `text` in order (DuckDB reports byte offsets; these are character offsets)."""
    data = text.encode("utf-8")
    found = duckdb.tokenize(text)
    tokens: list[Token] = []
    start = len(data[: found[0][0]].decode("utf-8")) if found else 0
    for i, (offset, kind) in enumerate(found):
        end = found[i + 1][0] if i + 1 < len(found) else len(data)
        piece = data[offset:end].decode("utf-8")
        tokens.append(Token(kind.name, piece.strip(), start))
        start += len(piece)
    return tokens


def code_tokens(text: str) -> list[Token]:
    """The tokens of `text` without its comments (a comment may sit between a name and its `(`)."""
    return [t for t in tokenize(text) if t.kind != "comment"]


def name_of(token: Token) -> str:
    """The lower-cased name an identifier or keyword token stands for (quotes removed)."""
    text = token.text
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].replace('""', '"')
    return text.lower()


def called_names(text: str) -> set[str]:
    """Lower-cased names written as `name(` (quoted names too; comments between them allowed)."""
    tokens = code_tokens(text)
    return {
        name_of(token)
        for token, after in zip(tokens, tokens[1:], strict=False)
        if token.kind in {"identifier", "keyword"} and after.text.startswith("(")
    }


def keywords(text: str) -> set[str]:
    """Lower-cased keywords (unquoted words DuckDB reserves, e.g. show, select)."""
    return {t.text.lower() for t in tokenize(text) if t.kind == "keyword"}


#: Keywords that end a FROM list (the clauses after it).
_AFTER_FROM_LIST = frozenset(
    {
        "where",
        "group",
        "having",
        "order",
        "limit",
        "offset",
        "qualify",
        "window",
        "union",
        "except",
        "intersect",
        "select",
        "using",
        "values",
        "in",
    }
)


def table_strings(text: str, after: frozenset[str]) -> list[str]:
    """Contents of the strings and quoted names that DuckDB may read as a table or a file: right
    after a keyword of `after` (`FROM 'x.csv'`), or after a comma in a FROM list that such a
    keyword opened (`FROM t, 'x.csv'`), at any depth of parentheses."""
    tokens = code_tokens(text)
    in_list = [False]  # per depth of parentheses: inside a FROM list
    found: list[str] = []
    previous = ""
    for token in tokens:
        word = token.text.lower()
        table_place = previous in after or (previous == "," and in_list[-1])
        if table_place and token.kind == "string_const" and token.text.startswith("'"):
            found.append(token.text[1:-1].replace("''", "'"))
        elif table_place and token.kind == "identifier" and token.text.startswith('"'):
            found.append(name_of(token))
        if token.text == "(":
            in_list.append(False)
        elif token.text == ")" and len(in_list) > 1:
            in_list.pop()
        elif token.kind == "keyword" and word in after:
            in_list[-1] = True
        elif token.kind == "keyword" and word in _AFTER_FROM_LIST:
            in_list[-1] = False
        previous = word if token.kind in {"keyword", "operator"} else ""
    return found


def numbers(text: str) -> list[float]:
    """Every numeric constant of `text` (underscores allowed; hexadecimal ones skipped)."""
    values: list[float] = []
    for token in tokenize(text):
        if token.kind == "numeric_const":
            try:
                values.append(abs(float(token.text.replace("_", ""))))
            except ValueError:
                continue
    return values


def explain_inner(text: str, statement_words: frozenset[str]) -> str | None:
    """The statement after `EXPLAIN [ANALYZE] [(options)]` as DuckDB splits it; None if none.

    A `(` after EXPLAIN opens options unless a word of `statement_words` (select, with, ...)
    follows it. Options may hold only plain words, strings, numbers and commas: a quoted option
    value can hold a `)` that a split by characters would take for the end of the options.
    """
    tokens = code_tokens(text)
    if not tokens or tokens[0].text.lower() != "explain":
        return None
    i = 1
    if i < len(tokens) and tokens[i].text.lower() in {"analyze", "analyse"}:
        i += 1
    if (
        i + 1 < len(tokens)
        and tokens[i].text == "("
        and tokens[i + 1].text != "("
        and name_of(tokens[i + 1]) not in statement_words
    ):
        i += 1
        while i < len(tokens) and tokens[i].text != ")":
            token = tokens[i]
            plain = token.kind in {"keyword", "string_const", "numeric_const"} or (
                token.kind == "identifier" and not token.text.startswith('"')
            )
            if not plain and token.text != ",":
                return None
            i += 1
        i += 1
    return text[tokens[i].start :] if i < len(tokens) else None
