"""`python -m pages._serve [streamlit options]`: serve app.py (what `make run` calls).

Streamlit takes a `pages/` folder beside the main script for a legacy (v1) pages folder until
the first `st.navigation` call of the process, so the very first run of a fresh server resolves
its URL against that folder's file names: a deep link such as `/forecast` as the first visit
showed "Page not found" (issue 18). This app routes every page through `st.navigation` in
app.py, so the launcher tells Streamlit so before the server starts, then runs Streamlit's own
`streamlit run app.py` command line in this process. Before the server starts it begins
loading the recommendation model in the background (`services.warmup`; $SHELFWISE_WARMUP=0
turns that off), so the first visitor of Recommendations does not wait for it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web import cli

from services.warmup import warm_in_background

APP = Path(__file__).resolve().parents[1] / "app.py"


def main(argv: Sequence[str]) -> None:
    """Run `streamlit run app.py *argv` with pages/ read as modules of app.py's navigation."""
    PagesManager.uses_pages_directory = False
    warm_in_background()
    sys.argv = ["streamlit", "run", str(APP), *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
