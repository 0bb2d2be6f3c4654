"""Display rules of the app's tables and numbers (no streamlit): labels, formats, column order.

`pages._format` turns these into Streamlit `column_config`; `number_format` names the format
of a numeric column from its name and type (pounds, percentages, whole units, ids).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl

#: Columns a manager decides on, shown first in this order when present.
DECISION_FIRST: tuple[str, ...] = (
    "supplier",
    "order_number",
    "store_id",
    "product_id",
    "description",
    "quantity",
    "order_qty",
    "suggested_order_qty",
    "line_value",
    "order_value",
    "stockout_risk",
    "days_of_cover",
    "reason",
    "rank",
    "customer_id",
    "segment",
)
#: Exact names with a fixed label (anything else: snake_case -> "Sentence case").
LABELS: dict[str, str] = {
    "store_id": "Store",
    "product_id": "Product",
    "customer_id": "Customer",
    "suggested_order_qty": "Suggested qty",
    "order_qty": "Order qty",
    "unit_price": "Price",
    "unit_cost": "Unit cost",
    "order_value": "Order value",
    "stockout_risk": "Stockout risk",
    "days_of_cover": "Days of cover",
    "on_hand": "On hand",
    "on_order": "On order",
    "reorder_point": "Reorder point",
    "order_up_to": "Order-up-to",
    "mean_daily_demand": "Demand per day",
    "revenue_share": "Share",
    "change_pct": "Change %",
    "previous_revenue": "Before",
    "change": "Change £",
    "units_change": "Change (units)",
    "previous_units": "Before (units)",
    "wape": "WAPE",
    "mase": "MASE",
    "avg_unit_price": "Avg price",
    "sale_date": "Date",
    "period_start": "Period",
    "table_name": "Table",
    "order_number": "Order no.",
    "cycle_service_level": "Cycle service",
    "avg_on_hand_units": "Avg on hand",
    "line_value": "Line value",
    "quantity": "Order qty",
    "rfm": "RFM",
}
_MONEY = ("revenue", "value", "price", "cost", "spend", "monetary", "basket", "change")
_SHARE = (
    *("share", "pct", "rate", "risk", "service_level", "fill", "wape", "target"),
    *("coverage", "recall"),
)
_UNITS = (
    "units",
    "qty",
    "quantity",
    "on_hand",
    "on_order",
    "reorder_point",
    "order_up_to",
    "safety_stock",
    "orders",
    "rows",
    "customers",
    "lines",
    "products",
    "positions",
    "frequency_orders",
)


def label(name: str) -> str:
    """Human header of a column name ("days_of_cover" -> "Days of cover")."""
    return LABELS.get(name) or name.replace("_", " ").strip().capitalize()


def number_format(name: str, dtype: pl.DataType) -> str:
    """The display format of numeric column `name` ("%d", "percent", "£%,.2f", "%,.0f", ...)."""
    low = name.lower()
    if low.endswith("_id") or low in ("rank", "version", "position", "year"):
        return "%d"
    if low.endswith("_share") or (any(part in low for part in _SHARE) and "units" not in low):
        return "percent"  # units_share is a share; units_rate-like names are not
    if low == "change" or low.endswith("_change"):
        return "%+,.0f"  # "+88,220" / "-19,550" under "Change £", never "£-19,549.54"
    if any(part in low for part in _MONEY):
        return "£%,.2f"
    if any(part in low for part in _UNITS) or dtype.is_integer():
        return "%,.0f"
    if low in ("score", "contribution", "mase", "bias", "rmsse", "pinball", "loss"):
        return "%.3f"
    return "%,.1f"


_FREQUENCIES = {"D": "Daily", "W": "Weekly", "M": "Monthly", "MS": "Monthly", "Q": "Quarterly"}


def frequency_label(code: str) -> str:
    """Human name of a pandas-style frequency code ("D" -> "Daily", "W-SUN" -> "Weekly")."""
    return _FREQUENCIES.get(code) or _FREQUENCIES.get(code.split("-")[0], code)


_MODELS = {
    "seasonal_naive": "Seasonal naive",
    "moving_average": "Moving average",
    "croston_sba": "Croston (SBA)",
    "tsb": "TSB",
    "ets": "Exponential smoothing",
    "lightgbm": "LightGBM",
    "lightgbm_median": "LightGBM (median)",
    "prophet": "Prophet",
    "auto": "Best per segment",
}


def model_label(code: str) -> str:
    """Human name of a forecasting model ("lightgbm_median" -> "LightGBM (median)"); an
    ensemble "a+b" reads "Blend: A + B"."""
    names = [_MODELS.get(part) or label(part) for part in code.split("+")]
    return names[0] if len(names) == 1 else "Blend: " + " + ".join(names)


def serving_text(status: dict[str, Any]) -> str:
    """What makes the Recommendations page's lists, in words, from `model_status`:
    "Lists by the LightGBM ranker of model v2, trained 2026-12-01 06:00; similar products by
    its two-tower item vectors." """
    serving = status.get("serving") or {}
    lists = str(serving.get("lists") or status.get("model") or "?")
    if lists == "ranker(lightgbm)":
        lists = "the LightGBM ranker"
    elif lists.startswith("blend(") and lists.endswith(")"):
        lists = "the blend of " + " and ".join(lists[6:-1].split("+"))
    similar = str(serving.get("similar") or status.get("model") or "?")
    trained = str(status.get("trained_at") or "?")[:16].replace("T", " ")
    return (
        f"Lists by {lists} of model v{status.get('version')}, trained {trained}; "
        f"similar products by its {similar} item vectors."
    )


def tidy(frame: pl.DataFrame, first: tuple[str, ...] = DECISION_FIRST) -> pl.DataFrame:
    """Decision columns first; nested values (lists, structs) as text; nulls in text as ''."""
    order = [c for c in first if c in frame.columns]
    frame = frame.select(order + [c for c in frame.columns if c not in order])
    fixes = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.List | pl.Array):
            fixes.append(pl.col(name).cast(pl.List(pl.String)).list.join(", ").alias(name))
        elif isinstance(dtype, pl.Struct | pl.Object):
            fixes.append(pl.col(name).map_elements(str, return_dtype=pl.String).alias(name))
        elif dtype == pl.String:
            fixes.append(pl.col(name).fill_null(""))
        elif isinstance(dtype, pl.Datetime) and (
            name.endswith("_date") or _all_midnight(frame[name])
        ):
            fixes.append(pl.col(name).dt.date().alias(name))
    return frame.with_columns(fixes) if fixes else frame


def purchase_lines(history: pl.DataFrame) -> pl.DataFrame:
    """A customer's purchase lines (`recsys.schemas.CUSTOMER_HISTORY_SCHEMA`, newest first) as a
    merchandiser reads them: the sale's day (a date, not a timestamp) and `units` bought."""
    return history.with_columns(pl.col("sold_at").dt.date()).rename({"quantity": "units"})


def movers_measure(movers: pl.DataFrame) -> str:
    """'revenue' or 'units': what `services.dashboard.movers` rows measure their change in."""
    return str(movers["measure"][0]) if movers.height else "revenue"


def mover_rows(movers: pl.DataFrame, direction: str) -> pl.DataFrame:
    """The Overview's table of `direction` ('up' or 'down') movers (`services.dashboard.movers`
    rows, both directions): product, description, change, change % and the two periods' values,
    in revenue (£) or, where the sales have no prices, in units (the change then reads "Change
    (units)", not "Change £"; an empty direction has the same columns as the other)."""
    measure = movers_measure(movers)
    columns = ["product_id", "description", "change", "change_pct"]
    columns += [measure, f"previous_{measure}"]
    table = movers.filter(pl.col("direction") == direction).select(columns)
    return table.rename({"change": "units_change"}) if measure == "units" else table


def _all_midnight(values: pl.Series) -> bool:
    """Whether every timestamp of a datetime column is at 00:00 (a date stored as a datetime)."""
    times = values.drop_nulls()
    return times.len() > 0 and bool((times.dt.truncate("1d") == times).all())


def period_unit(dates: pl.Series) -> str:
    """'week' when consecutive `dates` are mostly 7 days apart (a weekly panel's forecast or
    history), else 'day'."""
    gaps = dates.sort().diff().drop_nulls().dt.total_days()
    return "week" if gaps.len() and gaps.mode().min() == 7 else "day"


def without_empty_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` without its columns that hold no value at all (revenue of sales without prices:
    a column of "None" tells the reader nothing); an empty frame is returned as it is."""
    if frame.is_empty():
        return frame
    return frame.select([c for c in frame.columns if frame[c].null_count() < frame.height])


def sales_measure(frame: pl.DataFrame) -> str:
    """'revenue' when `frame`'s revenue column holds any value, else 'units': sales without
    prices (a panel of units or sales values) have NULL revenue, and a revenue chart of them is
    an empty £ axis."""
    if "revenue" in frame.columns and frame["revenue"].null_count() < frame.height:
        return "revenue"
    return "units"


def money(value: float | None) -> str:
    """£ with thousand separators (no pence from £100 up); 'n/a' for None."""
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    body = f"{abs(value):,.0f}" if abs(value) >= 100 else f"{abs(value):,.2f}"
    return f"{sign}£{body}"


def units_text(value: float | None) -> str:
    """Units with thousand separators, whole from 10 up, one decimal below; 'n/a' for None."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"


def kpi_text(value: float | None, unit: str) -> str:
    """Human format of a KPI value in its unit."""
    if value is None:
        return "n/a"
    if unit == "GBP":
        return money(value)
    if unit == "share":
        return f"{value:.1%}"
    if unit == "days":
        return f"{value:,.1f} d"
    return f"{value:,.0f}"


def score_axis(scores: pl.Series) -> tuple[tuple[float, float], str]:
    """The value range and title of a list's score axis. A list's scores are often within 2 %
    of each other (10.73 .. 10.56): from zero every bar looks the same, so the axis spans the
    list's own range (a quarter of it as margin) and its title says where it starts."""
    low, high = float(scores.min()), float(scores.max())  # type: ignore[arg-type]
    pad = max(high - low, abs(high) * 0.01, 1e-6) * 0.25
    if low >= 0 and low - pad <= 0:  # the range reaches zero anyway: an ordinary axis
        return (0.0, high + pad), "score (higher = better match)"
    start = low - pad
    return (start, high + pad), f"score (higher = better match; axis starts at {start:,.2f}, not 0)"


def period_end(start: date, grain: str) -> date:
    """Last day of the `grain` ('day', 'week', 'month') period starting on `start`."""
    if grain == "day":
        return start
    if grain == "week":
        return start + timedelta(days=6)
    nxt = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def mark_partial(
    trend: pl.DataFrame, grain: str, first: date, last: date, period_days: int = 1
) -> pl.DataFrame:
    """`trend` plus a bool `partial`: the period is cut by the range [first, last]. A weekly
    panel's weeks (`period_days` 7) are whole rows of the source, never partial."""
    starts = trend["period_start"].to_list()
    if grain == "week" and period_days == 7:
        flags = [False] * len(starts)
    else:
        flags = [s < first or period_end(s, grain) > last for s in starts]
    return trend.with_columns(pl.Series("partial", flags, dtype=pl.Boolean))
