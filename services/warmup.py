"""Warm a server's process-wide caches in the background at start-up.

The first visitor of the Recommendations page after a server starts used to pay for importing
torch, loading the model and its serving state and ranking every customer once (about 20 s on 2
cores at demo scale 1; issue 18). The launcher (`pages/_serve.py`) starts this warm-up in a daemon
thread before the server, so the first render finds it done, or waits for the same build instead
of starting its own.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Set to 0 to start without the warm-up (e.g. a development server restarted on every save).
WARMUP_ENV = "SHELFWISE_WARMUP"


def warm_recommendations(db: str | os.PathLike[str] | None) -> bool:
    """Load the newest model's serving state for `db` (None: $SHELFWISE_DB or the default) with
    its lazily built parts (ranker, vector index, descriptions, and the ranked lists of every
    customer, built on the first list asked for); False when there is no model or the warehouse
    cannot be read (logged: the page then shows its own message)."""
    from recsys import service as recsys_service

    started = time.perf_counter()
    try:
        state = recsys_service.serving_state(db)
        state.warm()
        customers = list(state.data.user_index)
        if customers:  # the first list ranks every customer once per model and date
            recsys_service.recommend_for_customer(db, str(customers[0]), k=10)
    except Exception as exc:  # noqa: BLE001 - a warm-up never stops the server
        log.info("warm-up: recommendations not loaded (%s)", exc)
        return False
    log.info("warm-up: recommendations ready in %.1f s", time.perf_counter() - started)
    return True


def warm_in_background(db: str | os.PathLike[str] | Path | None = None) -> threading.Thread | None:
    """Start `warm_recommendations(db)` in a daemon thread (None when $SHELFWISE_WARMUP=0)."""
    if os.environ.get(WARMUP_ENV, "1") == "0":
        return None
    from recsys.lists import rank_in_background

    rank_in_background(True)  # this is a long-lived server: rank everyone behind the first page
    thread = threading.Thread(
        target=warm_recommendations, args=(db,), daemon=True, name="shelfwise-warmup"
    )
    thread.start()
    return thread
