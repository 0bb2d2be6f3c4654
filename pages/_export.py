"""The export block of every table: a format picker and a download built only on click.

The bytes are kept per (name, format, content) for a re-download; the file itself is
`services.exports.export_bytes`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import polars as pl
import streamlit as st

from services.exports import EXPORT_FORMATS, export_bytes

_EXPORTS: dict[tuple[object, ...], bytes] = {}
_EXPORT_LOCK = threading.Lock()


def _file_bytes(
    frame: pl.DataFrame,
    fmt: str,
    basename: str,
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None,
) -> bytes:
    """The export file, built on click and kept per (name, format, content) for re-downloads."""
    key = (
        basename,
        fmt,
        frame.height,
        int(frame.hash_rows().sum()) if frame.height else 0,
        prepare is not None,
    )
    with _EXPORT_LOCK:
        if key in _EXPORTS:
            return _EXPORTS[key]
    data = export_bytes(prepare(frame) if prepare else frame, fmt)
    with _EXPORT_LOCK:
        _EXPORTS[key] = data
        while len(_EXPORTS) > 16:
            _EXPORTS.pop(next(iter(_EXPORTS)))
    return data


def export_buttons(
    frame: pl.DataFrame,
    basename: str,
    key: str,
    label: str = "Export",
    prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> None:
    """A format picker and one download button producing `basename.<ext>` from `frame`.

    The file is built only when the button is clicked (a callable `data=`), so choosing a format
    or any other interaction costs nothing; `prepare` (e.g. pseudonymisation) runs then too.
    """
    if frame.is_empty():
        st.caption("Nothing to export.")
        return
    # the button column fits the longest label ("Purchase order (Parquet)") without an ellipsis
    cols = st.columns([2, 3, 4], vertical_alignment="bottom")
    fmt = cols[0].selectbox("Format", list(EXPORT_FORMATS), key=f"{key}_fmt")
    ext, mime = EXPORT_FORMATS[fmt]
    cols[1].download_button(
        f"{label} ({fmt})",
        data=lambda: _file_bytes(frame, fmt, basename, prepare),
        file_name=f"{basename}.{ext}",
        mime=mime,
        key=f"{key}_download",
        icon=":material/download:",
        on_click="ignore",
    )
    cols[2].caption(f"{frame.height:,} rows x {frame.width} columns")
