"""`python -m warehouse`."""

import signal
import sys

if __name__ == "__main__":
    try:
        # Ctrl-C while the Rust and C extensions (polars, duckdb) load turned into a panic
        # traceback or a death by SIGINT: hold the signal until they are loaded, then take it
        # as a KeyboardInterrupt like any other moment
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            from warehouse.cli import main
            from warehouse.cli_common import exit_code
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        code = exit_code(main)
    except KeyboardInterrupt:  # before the CLI's own handler is in place
        print("interrupted; the warehouse is unchanged", file=sys.stderr)
        code = 130
    sys.exit(code)
