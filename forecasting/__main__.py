"""`python -m forecasting`."""

import sys

from forecasting.cli import main

sys.exit(main())
