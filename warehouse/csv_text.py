"""How a CSV file's bytes become text: its encoding (`as_utf8`) and its separator
(`sniff_separator`), read before polars parses it (`warehouse.load.read_source`)."""

from __future__ import annotations

#: Field separators a CSV may use; the one found most often in its header line is taken.
SEPARATORS: tuple[str, ...] = (",", ";", "\t", "|")


def sniff_separator(data: bytes) -> str:
    """The separator of a CSV: of `SEPARATORS`, the most frequent outside quotes in its first
    line (',' on a tie or when none is there)."""
    header = data[:65536].split(b"\n", 1)[0].decode("utf-8", errors="ignore")
    outside = "".join(part for i, part in enumerate(header.split('"')) if i % 2 == 0)
    counts = {sep: outside.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > counts[","] else ","


def as_utf8(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """A text file's bytes as UTF-8 without a byte-order mark, and a note when they were not.

    UTF-16 with its mark (Excel's "Unicode text") is decoded as such; bytes that are not valid
    UTF-8 are read as Windows-1252 (Excel's "CSV" on Windows; the UCI Online Retail CSV), or
    Latin-1 where Windows-1252 leaves a byte undefined. The note names the encoding used."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16").encode("utf-8"), ("text read as UTF-16",)
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        data.decode("utf-8")
        return data, ()
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n")  # 0: the header line
        where = f"{'the header' if row == 0 else f'row {row:,}'} is not UTF-8"
    try:
        text, name = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:  # a byte Windows-1252 leaves undefined: Latin-1 decodes them all
        text, name = data.decode("latin-1"), "Latin-1"
    return text.encode("utf-8"), (f"text read as {name} ({where})",)
