"""Shared machinery of every load: reading files, idempotent appends, quarantine, load report."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from warehouse.csv_text import as_utf8, sniff_separator
from warehouse.db import WarehouseError, execute, row_count
from warehouse.files import file_sha256 as file_sha256  # re-exported for loaders

#: Columns of the quarantine frame a preparer returns: the 1-based source row and a reason.
QUARANTINE_SCHEMA = pl.Schema(
    {"row_number": pl.Int64, "reason": pl.String, "record": pl.String, "quarantine_key": pl.String}
)


@dataclass
class LoadReport:
    """What one load did; printed by the CLI and stored in `load_log`."""

    kind: str
    source: str
    file: str
    load_id: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_added: int = 0
    rows_already_loaded: int = 0
    rows_quarantined: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    file_sha256: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))
    finished_at: datetime | None = None
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        """Human-readable multi-line report."""
        lines = [
            f"Load report: {self.kind} <- {self.file}",
            f"  rows read          {self.rows_read:>10,}",
            f"  accepted           {self.rows_accepted:>10,}",
            f"    added            {self.rows_added:>10,}",
            f"    already loaded   {self.rows_already_loaded:>10,}",
            f"  quarantined        {self.rows_quarantined:>10,}",
        ]
        for reason, n in sorted(self.quarantine_reasons.items(), key=lambda kv: -kv[1]):
            lines.append(f"    {reason:<20} {n:>8,}")
        lines.append(f"  load id            {self.load_id}")
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)


def new_load_id() -> str:
    """Time-ordered load id: later loads sort after earlier ones."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class SourceFile:
    """A data file read once: its rows as text, the sha256 of exactly the bytes parsed, notes."""

    frame: pl.DataFrame
    sha256: str
    notes: tuple[str, ...] = ()


def read_source(path: Path, *, member: str | None = None, sheet: str | None = None) -> SourceFile:
    """Read a parquet, csv, xlsx (every sheet) or a csv inside a zip, every column as text.

    The file's bytes are read once; the hash and the rows both come from those bytes, so a file
    replaced during a load cannot pair the new file's hash with the old file's rows. A workbook
    loads all its sheets when they have the same columns (a note names them), else asks for
    `sheet`; a zip with several CSV members asks for `member`.

    Reading as text lets the preparers type-check each value and quarantine the rows that fail,
    naming the column, instead of failing the whole file on one bad cell.
    """
    if not path.exists():
        raise WarehouseError(f"{path}: file not found")
    if path.is_dir():
        raise WarehouseError(f"{path}: is a directory, expected a file")
    data = path.read_bytes()
    if not data:
        raise WarehouseError(f"{path}: file is empty")
    digest = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    notes: tuple[str, ...] = ()
    try:
        if suffix == ".parquet":
            frame = pl.read_parquet(io.BytesIO(data))
        elif suffix in {".csv", ".txt"}:
            frame, notes = _read_csv(data)
        elif suffix in {".xlsx", ".xls"}:
            frame, notes = _read_workbook(data, path, sheet)
        elif suffix == ".zip":
            frame, notes = _read_csv(_zip_member(data, path, member))
        else:
            raise WarehouseError(
                f"{path}: unsupported file type {suffix!r} (parquet, csv, xlsx, zip)"
            )
    except WarehouseError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseError(f"{path}: not a readable {suffix.lstrip('.')} file ({first})") from exc
    frame, trailing = _drop_trailing_blank_rows(frame.with_columns(pl.all().cast(pl.String)))
    if frame.height == 0:
        raise WarehouseError(f"{path}: no data rows")
    if trailing:
        notes = (*notes, f"skipped {trailing:,} empty row{'s' * (trailing > 1)} at the end")
    return SourceFile(_strip_header(frame), digest, notes)


def blank_row(columns: list[str]) -> pl.Expr:
    """True where every one of the text `columns` is null or only spaces (a blank line between
    data rows: the loaders quarantine it as `blank_row`, not as a row missing its fields)."""
    return pl.all_horizontal(pl.col(c).str.strip_chars().fill_null("") == "" for c in columns)


def _drop_trailing_blank_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """`frame` (text columns) without the rows after its last row with a value (a spreadsheet's
    ',,,' lines and blank lines at the end), and how many were dropped. Blank rows between data
    rows stay: the loaders quarantine them as `blank_row`, keeping every row's number."""
    if frame.height == 0 or frame.width == 0:
        return frame, 0
    last = frame.select((~blank_row(frame.columns)).arg_true().max())[0, 0]
    keep = 0 if last is None else int(last) + 1
    return frame.head(keep), frame.height - keep


_DECIMAL_COMMA = r"^\s*[-+]?\d+,\d+\s*$"


def _read_csv(data: bytes) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Every cell as text, with the file's own separator and encoding (`as_utf8`); a ';' file (a
    spreadsheet's export where the comma is the decimal mark) has its decimal commas read as
    points ('3,5' -> '3.5')."""
    data, notes = as_utf8(data)
    separator = sniff_separator(data)
    frame = pl.read_csv(io.BytesIO(data), infer_schema=False, separator=separator)
    if separator == ",":
        return frame, notes
    shown = "tab" if separator == "\t" else repr(separator)
    note = f"fields separated by {shown}"
    if separator == ";":
        frame = frame.with_columns(
            pl.when(pl.col(c).str.contains(_DECIMAL_COMMA))
            .then(pl.col(c).str.replace(",", ".", literal=True))
            .otherwise(pl.col(c))
            for c in frame.columns
        )
        note += "; numbers with a decimal comma read as decimals"
    return frame, (*notes, note)


def _strip_header(frame: pl.DataFrame) -> pl.DataFrame:
    """Column names without surrounding spaces (' Date ' -> 'Date'), unless two would clash."""
    stripped = [c.strip() for c in frame.columns]
    if len(set(stripped)) < len(stripped):
        return frame
    return frame.rename(dict(zip(frame.columns, stripped, strict=True)))


def read_as_text(path: Path, *, member: str | None = None) -> pl.DataFrame:
    """The rows of `read_source(path, member=member)` (every column as text)."""
    return read_source(path, member=member).frame


def _read_workbook(
    data: bytes, path: Path, sheet: str | None
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    sheets = pl.read_excel(io.BytesIO(data), sheet_id=0, infer_schema_length=0)
    names = list(sheets)
    if sheet is not None:
        if sheet not in sheets:
            raise WarehouseError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(names)})")
        others = [n for n in names if n != sheet]
        note = f"loaded sheet {sheet!r} only" + (
            f"; not loaded: {', '.join(repr(n) for n in others)}" if others else ""
        )
        return sheets[sheet], (note,)
    filled = {n: f for n, f in sheets.items() if f.height > 0}
    if not filled:
        return sheets[names[0]], ()
    columns = {n: f.columns for n, f in filled.items()}
    first = next(iter(filled))
    differing = [n for n, c in columns.items() if c != columns[first]]
    if differing:
        raise WarehouseError(
            f"{path}: sheets {first!r} and {differing[0]!r} have different columns; load one "
            f"at a time with --sheet (sheets: {', '.join(names)})"
        )
    frame = pl.concat(list(filled.values()), how="vertical")
    note = "loaded every sheet: " + ", ".join(
        f"{n!r} ({f.height:,} rows)" for n, f in filled.items()
    )
    return frame, (note,)


def _zip_member(data: bytes, path: Path, member: str | None) -> bytes:
    """The bytes of the CSV `member` of a zip (default train.csv, or its only CSV)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if member is None:
            if "train.csv" in names:
                member = "train.csv"
            elif len(names) == 1:
                member = names[0]
            else:
                raise WarehouseError(
                    f"{path}: holds several CSV files ({', '.join(names)}); pick one with --member"
                )
        if member not in archive.namelist():
            raise WarehouseError(f"{path}: no member {member!r} (has: {', '.join(names)})")
        return archive.read(member)


def require_columns(frame: pl.DataFrame, path: Path, wanted: Sequence[str]) -> None:
    """Raise naming the file and every missing column (and what the file has)."""
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise WarehouseError(
            f"{path}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"the file has {', '.join(repr(c) for c in frame.columns)}"
            f"{_case_hint(frame, missing)}"
        )


def _case_hint(frame: pl.DataFrame, missing: Sequence[str]) -> str:
    """' (names are case-sensitive: 'a' -> 'A')' for missing names the file has in another case."""
    by_lower = {c.lower(): c for c in frame.columns}
    hints = [f"{c!r} -> {by_lower[c.lower()]!r}" for c in missing if c.lower() in by_lower]
    return f" (names are case-sensitive: {', '.join(hints)})" if hints else ""


def find_column(frame: pl.DataFrame, spellings: Sequence[str]) -> str | None:
    """The first of `spellings` in `frame`; else the only column that matches one ignoring case,
    spaces and punctuation ('customer_id' for 'Customer ID'); else None."""
    for name in spellings:
        if name in frame.columns:
            return name
    for name in spellings:
        same = [c for c in frame.columns if _loose(c) == _loose(name)]
        if len(same) == 1:
            return same[0]
    return None


def _loose(name: str) -> str:
    """A column name lower-cased with everything but letters and digits removed."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def pick_column(frame: pl.DataFrame, path: Path, spellings: Sequence[str]) -> str:
    """`find_column`, else a clear error naming every spelling and the file's columns."""
    found = find_column(frame, spellings)
    if found is not None:
        return found
    raise WarehouseError(
        f"{path}: missing column {' / '.join(repr(s) for s in spellings)}; "
        f"the file has {', '.join(repr(c) for c in frame.columns)}"
        f"{_case_hint(frame, spellings)}"
    )


def row_hash(*exprs: pl.Expr) -> pl.Expr:
    """Stable md5 hex of the given text expressions joined by '|', NULL written as empty."""
    joined = pl.concat_str([e.cast(pl.String).fill_null("") for e in exprs], separator="|")
    return joined.map_elements(
        lambda s: hashlib.md5(s.encode("utf-8")).hexdigest(), return_dtype=pl.String
    )


def first_failing_reason(rules: Sequence[tuple[str, pl.Expr]]) -> pl.Expr:
    """The name of the first rule whose condition is true, else NULL (row accepted)."""
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for reason, condition in reversed(rules):
        expr = pl.when(condition.fill_null(False)).then(pl.lit(reason)).otherwise(expr)
    return expr


def quarantine_frame(rejected: pl.DataFrame, source_cols: Sequence[str]) -> pl.DataFrame:
    """Rows with `_row`, `_reason`, `_content`, `_occurrence` -> QUARANTINE_SCHEMA frame."""
    if rejected.height == 0:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return rejected.select(
        pl.col("_row").cast(pl.Int64).alias("row_number"),
        pl.col("_reason").alias("reason"),
        pl.struct([pl.col(c) for c in source_cols]).struct.json_encode().alias("record"),
        row_hash(pl.col("_reason"), pl.col("_content"), pl.col("_occurrence")).alias(
            "quarantine_key"
        ),
    )


def append_new(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, key: str) -> int:
    """Insert the rows of `frame` whose `key` is not yet in `table`; returns rows added."""
    if frame.height == 0:
        return 0
    con.register("_incoming", frame)
    try:
        before = row_count(con, table)
        execute(
            con,
            f"INSERT INTO {table} BY NAME SELECT * FROM _incoming "
            f"WHERE {key} NOT IN (SELECT {key} FROM {table})",
        )
        return row_count(con, table) - before
    finally:
        con.unregister("_incoming")


def replace_by_key(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, keys: Sequence[str]
) -> None:
    """Upsert: delete rows of `table` matching `frame` on `keys`, then insert `frame`."""
    if frame.height == 0:
        return
    con.register("_incoming", frame)
    try:
        match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM i.{k}" for k in keys)
        execute(
            con, f"DELETE FROM {table} AS t WHERE EXISTS (SELECT 1 FROM _incoming i WHERE {match})"
        )
        execute(con, f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
    finally:
        con.unregister("_incoming")


def store_quarantine(
    con: duckdb.DuckDBPyConnection, report: LoadReport, quarantined: pl.DataFrame
) -> None:
    """Keep rejected rows with their reason (idempotent on quarantine_key); fill the report."""
    report.rows_quarantined = quarantined.height
    if quarantined.height:
        counts = quarantined.group_by("reason").len()
        report.quarantine_reasons = dict(zip(counts["reason"], counts["len"], strict=True))
    frame = quarantined.with_columns(
        pl.lit(report.source).alias("source"),
        pl.lit(report.load_id).alias("load_id"),
        pl.lit(report.file).alias("file"),
    )
    append_new(con, "quarantine", frame, "quarantine_key")


def log_load(con: duckdb.DuckDBPyConnection, report: LoadReport) -> None:
    """Append the report to `load_log` (inside the load's transaction)."""
    report.finished_at = datetime.now(UTC).replace(tzinfo=None)
    execute(
        con,
        "INSERT INTO load_log VALUES ($load_id, $kind, $source, $file, $sha, $started, $finished, "
        "$read, $accepted, $added, $already, $quarantined, $reasons)",
        {
            "load_id": report.load_id,
            "kind": report.kind,
            "source": report.source,
            "file": report.file,
            "sha": report.file_sha256,
            "started": report.started_at,
            "finished": report.finished_at,
            "read": report.rows_read,
            "accepted": report.rows_accepted,
            "added": report.rows_added,
            "already": report.rows_already_loaded,
            "quarantined": report.rows_quarantined,
            "reasons": json.dumps(report.quarantine_reasons, sort_keys=True),
        },
    )
