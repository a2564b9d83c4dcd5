"""The ``tradewatch`` command line: ``main(argv) -> int``, subcommands registered by their modules.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its subcommands
with ``set_defaults(func=handler)``; a handler takes the parsed arguments and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from importlib import metadata

COMMAND_MODULES: tuple[str, ...] = (
    "generator.commands",
    "generator.demo.commands",
    "exporters.commands",
    "generator.deploy.commands",
    "generator.analysis.commands",
)


def version() -> str:
    """The installed distribution's version (pyproject.toml's), as ``pip show tradewatch`` gives it."""
    try:
        return metadata.version("tradewatch")
    except metadata.PackageNotFoundError:
        return "(not installed: run make setup)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradewatch",
        description="Observability as code for trading platforms: one threshold spec to Prometheus "
        "rules, Grafana dashboards, promtool tests and Alertmanager routing.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


DEBUG_ENV = "TRADEWATCH_DEBUG"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print("tradewatch: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # Every expected failure is reported by its command; this is a bug, said in one line.
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"tradewatch: internal error ({type(exc).__name__}: {exc}); this is a bug in tradewatch. "
              f"Set {DEBUG_ENV}=1 to see where it happened.", file=sys.stderr)
        return 70  # EX_SOFTWARE
    return code


def entrypoint() -> None:
    sys.exit(main())
