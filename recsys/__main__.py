"""`python -m recsys ...`."""

import sys

from recsys.cli import main
from warehouse.cli_common import exit_code

sys.exit(exit_code(main))
