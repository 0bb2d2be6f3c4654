"""`python -m forecasting`."""

import os
import sys

# Before LightGBM loads its OpenMP runtime (libgomp reads this once, at load): idle threads spin
# 1,000 times at a barrier before they sleep, not about 300,000. Two `forecasting run`s side by
# side on 2 cores took over 240 s each with the default (threads spinning against each other),
# 27 s with this; alone 17-18 s either way (docs/BENCHMARKS.md, "OpenMP spin"). Not set for
# processes that train the two-tower: torch's small ops ran 1.8x slower with it. A user's value
# wins.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

from forecasting.cli import main  # after the OpenMP setting
from warehouse.cli_common import exit_code

sys.exit(exit_code(main))
