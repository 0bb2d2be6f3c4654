"""`warehouse.csv_text`: a CSV's separator from its header line (its encoding: `as_utf8`, through
`read_source` in tests/test_warehouse_load.py)."""

from __future__ import annotations

import pytest

from warehouse.csv_text import as_utf8, sniff_separator


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"date,store,item,sales\n", ","),
        (b"date;store;item;sales\r\n", ";"),
        (b"date\tstore\titem\tsales\n", "\t"),
        (b"date|store|item|sales\n", "|"),
        (b'"a;b",c,d\n', ","),  # a separator inside quotes does not count
        (b"single\n", ","),
    ],
)
def test_the_separator_is_read_from_the_header(header: bytes, expected: str) -> None:
    assert sniff_separator(header + b"1,2,3,4\n") == expected


def test_utf8_passes_through_and_a_byte_order_mark_is_dropped() -> None:
    assert as_utf8("CAFÉ".encode()) == ("CAFÉ".encode(), ())
    assert as_utf8(b"\xef\xbb\xbfa,b\n") == (b"a,b\n", ())
    assert as_utf8(b"a,b\nCAF\xc9,1\n") == (
        "a,b\nCAFÉ,1\n".encode(),
        ("text read as Windows-1252 (row 1 is not UTF-8)",),
    )
