"""Shared command-line conventions of the four CLIs (warehouse, recsys, forecasting, services).

Global options (`--db`, `--quiet`) are accepted before or after the sub-command, and every
sub-command's `--help` ends with an example.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping

DB_HELP = "warehouse file (default $SHELFWISE_DB or data/shelfwise.duckdb)"
QUIET_HELP = "no progress bars"


def add_global_options(parser: argparse.ArgumentParser) -> None:
    """`--db PATH` and `--quiet` on the top-level parser (the defaults live here)."""
    if "--db" not in parser._option_string_actions:
        parser.add_argument("--db", help=DB_HELP)
    if "--quiet" not in parser._option_string_actions:
        parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found.update(action.choices)
    return found


def finish_parser(parser: argparse.ArgumentParser, examples: Mapping[str, str]) -> None:
    """Accept the global options after any sub-command and add an example to each `--help`.

    Args:
        parser: the top-level parser, with its sub-commands already added.
        examples: sub-command path ("ingest online-retail", "plan") -> an example command line.
    """
    add_global_options(parser)

    def walk(node: argparse.ArgumentParser, path: str) -> None:
        for name, sub in _subparsers(node).items():
            key = f"{path} {name}".strip()
            if "--db" not in sub._option_string_actions:
                sub.add_argument("--db", default=argparse.SUPPRESS, help=DB_HELP)
            if "--quiet" not in sub._option_string_actions:
                sub.add_argument(
                    "--quiet", action="store_true", default=argparse.SUPPRESS, help=QUIET_HELP
                )
            example = examples.get(key)
            if example:
                sub.epilog = f"example:\n  {example}"
                sub.formatter_class = argparse.RawDescriptionHelpFormatter
            walk(sub, key)

    walk(parser, "")
    lines = [f"  {cmd}" for cmd in examples.values()]
    parser.epilog = "examples:\n" + "\n".join(lines)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def missing_examples(parser: argparse.ArgumentParser, examples: Mapping[str, str]) -> list[str]:
    """Sub-command paths (leaves and groups with no sub-commands) that have no example."""
    missing: list[str] = []

    def walk(node: argparse.ArgumentParser, path: str) -> None:
        for name, sub in _subparsers(node).items():
            key = f"{path} {name}".strip()
            children = _subparsers(sub)
            if children:
                walk(sub, key)
            elif key not in examples:
                missing.append(key)

    walk(parser, "")
    return missing


#: The exit status of a command whose reader went away (a shell's 128 + SIGPIPE).
CLOSED_PIPE_STATUS = 141


def exit_code(main: Callable[[], int]) -> int:
    """Run a CLI's `main` and return its status; a closed pipe (`... | head`) ends it quietly.

    Python turns the reader's exit into a BrokenPipeError traceback at the next print and once
    more when the interpreter flushes stdout at exit. Here standard output is pointed at
    /dev/null instead, so the flush at exit is silent, and the status is 141 as a shell reports
    for a command killed by SIGPIPE. Whatever the command wrote to the warehouse is committed or
    rolled back as at any other failure.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return CLOSED_PIPE_STATUS
    return code
