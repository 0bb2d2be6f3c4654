"""`python -m services`."""

import sys

from services.cli import main
from warehouse.cli_common import exit_code

sys.exit(exit_code(main))
