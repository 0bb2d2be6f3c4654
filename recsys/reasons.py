"""Reasons from the ranker: the feature that raised an item most, in a merchandiser's words.

For each recommended (customer, product) row LightGBM's `pred_contrib` gives every feature's
contribution to the score. Customer-level features (`u_*`) move all of a customer's items
equally, so they cannot say why *this* item: the reason names the largest contribution among
the other features (`explained_feature`), and `reason_text` turns it into a sentence with the
row's own numbers ("you buy this about every 30 days; last bought 34 days ago").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys.features import FEATURES, USER

#: Features a reason may name (customer-level ones excluded, see the module docstring).
NAMEABLE = np.array([not f.startswith("u_") or f == "u_category_share" for f in FEATURES])
_USER_ONLY = set(USER) - {"u_category_share"}
assert all(not NAMEABLE[FEATURES.index(f)] for f in _USER_ONLY)


def explained_feature(contrib: np.ndarray) -> np.ndarray:
    """[n] index into FEATURES of the largest nameable contribution of each row [n, F]."""
    masked = np.where(NAMEABLE[None, :], contrib, -np.inf)
    return np.argmax(masked, axis=1)


_INDEX = {f: i for i, f in enumerate(FEATURES)}
#: A product first sold at most this many days ago is called a "new line" (the ranker can also
#: raise an old product through its age; then the reason says it is established).
NEW_LINE_DAYS = 90


def _value(x: np.ndarray, name: str) -> float:
    return float(x[_INDEX[name]])


def _days(value: float) -> str:
    return f"{value:.0f} day" + ("" if round(value) == 1 else "s")


def reason_text(feature: str, x: np.ndarray, category: str, partner: str | None) -> str:
    """One sentence for the named `feature` of a row with features `x` [F]."""
    orders, last = _value(x, "ux_orders"), _value(x, "ux_days_since_last")
    gap = _value(x, "ux_mean_gap")
    bought = orders > 0
    if feature in ("ux_cycle_ratio", "ux_mean_gap") and bought and np.isfinite(gap):
        return f"you buy this about every {_days(gap)}; last bought {_days(last)} ago"
    if (feature.startswith("ux_") or feature.startswith("buy_again")) and bought:
        text = f"you bought it {orders:.0f}x before; last {_days(last)} ago"
        if np.isfinite(gap):
            text = f"you buy this about every {_days(gap)}; last bought {_days(last)} ago"
        return text
    if feature.startswith("together") and partner:
        return f"often bought with {partner}"
    if feature.startswith("uknn"):
        return "customers who buy what you buy also buy this"
    if feature.split("_")[0] in ("ease", "knn", "two") and partner:
        return f"customers who buy {partner} also buy this"
    if feature in ("i_trend", "i_buyers_7") or feature.startswith("trending"):
        return (
            f"trending in {category} this month ({_value(x, 'i_buyers_30'):.0f} buyers in 30 days)"
        )
    if feature == "i_age" and np.isfinite(age := _value(x, "i_age")):
        if age <= NEW_LINE_DAYS:
            return f"new line in {category}: first sold {_days(age)} ago"
        return f"an established line in {category}: first sold {_days(age)} ago"
    if feature.startswith("category") or feature in ("u_category_share", "i_category"):
        return f"a best seller in {category}, a category you buy often"
    if feature == "i_price":
        return f"priced {_value(x, 'i_price'):.2f}, in line with what you buy"
    if feature == "i_repeat_share":
        return f"customers who try it buy it again ({_value(x, 'i_repeat_share'):.0%})"
    return f"popular now ({_value(x, 'i_buyers_30'):.0f} buyers in the last 30 days)"


def partners(
    own: sp.csr_matrix, users: np.ndarray, items: np.ndarray, weights: np.ndarray | sp.spmatrix
) -> np.ndarray:
    """[n] for each (user, item) row the user's own item with the largest weights[own, item]
    (-1 when the user has no items or none links to `item`; ties: the lowest item id)."""
    own = own.tocsr()
    starts = own.indptr[users]
    lens = own.indptr[users + 1] - starts
    out = np.full(len(users), -1, np.int64)
    if lens.sum() == 0:
        return out
    row = np.repeat(np.arange(len(users)), lens)
    offset = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
    mine = own.indices[np.repeat(starts, lens) + offset].astype(np.int64)
    target = np.asarray(items, np.int64)[row]
    vals = weights[mine, target]
    vals = np.asarray(vals.todense() if sp.issparse(vals) else vals, np.float64).ravel()
    # own items of a row are in ascending id order (canonical CSR): the first maximum wins
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    best = np.maximum.reduceat(vals, starts)
    at_best = np.flatnonzero(
        vals == best[np.searchsorted(starts, np.arange(row.size), "right") - 1]
    )
    rows_hit, first = np.unique(row[at_best], return_index=True)
    pick = at_best[first]
    good = vals[pick] > 0
    out[rows_hit[good]] = mine[pick[good]]
    return out
