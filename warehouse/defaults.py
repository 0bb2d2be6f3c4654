"""Documented defaults used when a source has no value (see docs/DATA.md)."""

from __future__ import annotations

from typing import Final

#: Unit cost as a share of unit price when the source gives no cost (typical retail margin 40%).
DEFAULT_COST_RATIO: Final = 0.6

#: Replenishment parameters for store x product pairs the supply file does not cover.
SUPPLY_DEFAULTS: Final[dict[str, float]] = {
    "lead_time_mean_days": 7.0,  # days from order to receipt
    "lead_time_sd_days": 2.0,  # days
    "order_cost": 20.0,  # currency units per order placed
    "holding_cost_rate": 0.25,  # share of unit cost per year
    "min_order_qty": 1.0,  # units
    "case_pack": 1.0,  # units per case
}

#: Supplier of store x product pairs whose supply rows name none (purchase orders group by it).
DEFAULT_SUPPLIER_ID: Final = "DEFAULT"

#: Country whose public holidays fill dim_date (the `holidays` package, no network).
HOLIDAY_COUNTRY: Final = "GB"
