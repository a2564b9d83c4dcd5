"""The ``tradewatch`` command line: ``main(argv) -> int``, subcommands registered by their modules.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its subcommands
with ``set_defaults(func=handler)``; a handler takes the parsed arguments and returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES: tuple[str, ...] = (
    "generator.commands",
    "generator.demo.commands",
    "exporters.commands",
    "generator.deploy.commands",
    "generator.report.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradewatch",
        description="Observability as code for trading platforms: one threshold spec to Prometheus "
        "rules, Grafana dashboards, promtool tests and Alertmanager routing.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def entrypoint() -> None:
    sys.exit(main())
