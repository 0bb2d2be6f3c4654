"""`recsys.export`: the customer lists merchandisers upload (CLI `--customers` and the app)."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.errors import RecsysError
from recsys.export import customer_ids_from_bytes, read_customer_file


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"customer_id,name\n13085,a\n13078,b\n", ("13085", "13078")),
        # Excel's "CSV UTF-8" starts with a byte-order mark: it became part of the first id
        (b"\xef\xbb\xbfcustomer_id,name\r\n13085,a\r\n", ("13085",)),
        # a European export: ';' separated, the id in any column, named as in Online Retail II
        (b"segment;Customer ID\nx;13085\ny;13078\n", ("13085", "13078")),
        (b"13085\n\n 13078 \n13085\n", ("13085", "13078")),  # one per line, each once
        (b'"13085",x\n"13078",y\n', ("13085", "13078")),  # no header: the first field
        (b'customer_id\n"C,1"\n', ("C,1",)),  # a quoted id holding the separator
    ],
)
def test_customer_lists_in_the_shapes_spreadsheets_save(data: bytes, expected: tuple) -> None:
    assert customer_ids_from_bytes(data, "list.csv") == expected


def test_a_bad_list_is_named_with_its_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"customer_id\n13085\nCaf\xe9\n")
    with pytest.raises(RecsysError, match=r"latin.csv: line 3 is not UTF-8 text"):
        read_customer_file(latin)
    with pytest.raises(RecsysError, match="no customer ids"):
        customer_ids_from_bytes(b"customer_id\n\n", "empty.csv")
    with pytest.raises(RecsysError, match="not found"):
        read_customer_file(tmp_path / "missing.csv")
