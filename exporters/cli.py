"""``tradewatch-exporter``: the processes that run beside the trading engine, without the generator.

The exporter, the simulator and the alert log need only prometheus-client and redis; this command
offers the same ``exporter``, ``simulate`` and ``alert-log`` as ``tradewatch`` and imports nothing
from the generator's dependencies (grafanalib, jsonschema, requests, PyYAML, promql-parser), so
``pip install tradewatch`` without the ``generator`` extra runs it; the exporter image is that install.

Example::

    tradewatch-exporter exporter --source simulate --listen 127.0.0.1:9105
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from exporters import commands
from generator.cli import run, version
from generator.demo.commands import register_alert_log


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tradewatch-exporter",
        description="tradewatch's runtime processes: the exporter, the engine simulator and the alert log "
        "(the same commands as `tradewatch exporter|simulate|alert-log`, without the generator).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.register(sub)
    register_alert_log(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser(), argv)


def entrypoint() -> None:
    sys.exit(main())
