"""`bench/forecast_cuts.py`: the cuts land on the cutoffs BENCHMARKS.md's coverage tables used."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

SPEC = importlib.util.spec_from_file_location(
    "forecast_cuts", Path(__file__).resolve().parents[1] / "bench" / "forecast_cuts.py"
)
assert SPEC is not None and SPEC.loader is not None
cuts = importlib.util.module_from_spec(SPEC)
sys.modules["forecast_cuts"] = cuts  # dataclasses look their module up
SPEC.loader.exec_module(cuts)

#: (dataset's own cutoff, days per period, horizon) of `forecast_datasets.build`'s three cases.
BASE = {
    0: (dt.date(2010, 10, 31), 1, 28),
    1: (dt.date(2017, 6, 30), 7, 26),
    2: (dt.date(2010, 10, 1), 7, 8),
}
#: The cutoffs of the 17 cases as BENCHMARKS.md lists them.
EXPECTED = {
    "ord-1031": "2010-10-31",
    "ord-1003": "2010-10-03",
    "ord-0905": "2010-09-05",
    "ord-0808": "2010-08-08",
    "ord-1017": "2010-10-17",
    "si-117": "2017-06-30",
    "si-91": "2016-12-30",
    "si-104": "2017-03-31",
    "si-78": "2016-09-30",
    "si-84": "2016-11-11",
    "si-110": "2017-05-12",
    "si-97": "2017-02-10",
    "si-113": "2017-06-02",
    "orw-43": "2010-10-01",
    "orw-35": "2010-08-06",
    "orw-39": "2010-09-03",
    "orw-41": "2010-09-17",
}


def _cutoff(cut: Any) -> dt.date:
    until, step, h = BASE[cut.dataset]
    return cuts.cutoff(until, step, h, cut.shift, cut.back)


def test_the_17_cuts_land_on_the_documented_cutoffs() -> None:
    assert {c.label: _cutoff(c).isoformat() for c in cuts.CUTS} == EXPECTED


def test_weekly_labels_say_the_history_and_held_out_cuts_are_new() -> None:
    # weekly panels start 116 (store-item) / 42 (OR II) weeks before the dataset's cutoff
    first = {1: dt.date(2015, 4, 10), 2: dt.date(2009, 12, 11)}
    for c in (*cuts.CUTS, *cuts.HELDOUT):
        if c.dataset in first:
            weeks = (_cutoff(c) - first[c.dataset]).days // 7 + 1
            assert c.label.endswith(f"-{weeks}"), c
    assert not {_cutoff(c) for c in cuts.HELDOUT} & {_cutoff(c) for c in cuts.CUTS}
    assert cuts.step_days("Online Retail II daily") == 1
    assert cuts.step_days("store-item weekly (117 wk)") == 7


def test_band_edges_are_in() -> None:
    assert cuts.in_band(0.77) and cuts.in_band(0.83) and cuts.in_band(0.8296)
    assert not cuts.in_band(0.7649) and not cuts.in_band(0.831)
