"""User-facing errors of the recommendations package (one line each)."""

from __future__ import annotations

from warehouse.db import NotApplicableError, WarehouseError


class RecsysError(WarehouseError):
    """A clear, one-line error about recommendations input or state."""


class NoCustomerPurchasesError(NotApplicableError, RecsysError):
    """The warehouse has no purchase with a customer id (e.g. a store x item sales panel)."""


class NoModelError(RecsysError):
    """No trained (loadable) recommendation model for this warehouse."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            (detail + "; " if detail else "")
            + "no trained recommendation model: run `python -m recsys train` first"
        )
