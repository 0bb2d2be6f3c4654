"""`python -m warehouse`."""

import sys

if __name__ == "__main__":
    try:
        from warehouse.cli import main

        code = main()
    except KeyboardInterrupt:  # before the CLI's own handler is in place
        print("interrupted; the warehouse is unchanged", file=sys.stderr)
        code = 130
    sys.exit(code)
