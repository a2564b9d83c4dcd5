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
    "generator.report.commands",
)


def version() -> str:
    """The installed distribution's version (pyproject.toml's), as ``pip show tradewatch`` gives it."""
    try:
        return metadata.version("tradewatch")
    except metadata.PackageNotFoundError:
        return "(not installed: run make setup)"


# Installed without its `generator` extra (the exporter image), tradewatch lacks what these need.
GENERATOR_EXTRA_HINT = "pip install 'tradewatch[generator]'"
OURS = ("generator", "exporters")


def build_parser(missing: dict[str, str] | None = None) -> argparse.ArgumentParser:
    """The ``tradewatch`` parser. With ``missing``, a command module whose third-party dependency is not
    installed is left out and recorded there (command module -> missing module) instead of failing."""
    parser = argparse.ArgumentParser(
        prog="tradewatch",
        description="Observability as code for trading platforms: one threshold spec to Prometheus "
        "rules, Grafana dashboards, promtool tests and Alertmanager routing.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if missing is None or exc.name is None or exc.name.partition(".")[0] in OURS:
                raise
            missing[name] = exc.name
            continue
        module.register(sub)
    return parser


DEBUG_ENV = "TRADEWATCH_DEBUG"


def run(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    """Parse ``argv`` and run the chosen command; an unexpected exception is reported in one line."""
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if isinstance(exc, ModuleNotFoundError) and exc.name and exc.name.partition(".")[0] not in OURS:
            # A command that imports its dependencies when it runs (demo), in the exporter install.
            print(f"{parser.prog} {args.command}: {_lacks([exc.name])}", file=sys.stderr)
            return 1
        # Every expected failure is reported by its command; this is a bug, said in one line.
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"{parser.prog}: internal error ({type(exc).__name__}: {exc}); this is a bug in tradewatch. "
              f"Set {DEBUG_ENV}=1 to see where it happened.", file=sys.stderr)
        return 70  # EX_SOFTWARE
    return code


def _lacks(modules: Sequence[str]) -> str:
    return (f"this installation lacks {', '.join(modules)}: it is the exporter's alone. {GENERATOR_EXTRA_HINT} "
            "installs the generator's dependencies; tradewatch-exporter runs exporter, simulate and alert-log.")


def main(argv: Sequence[str] | None = None) -> int:
    missing: dict[str, str] = {}
    parser = build_parser(missing)
    if missing:
        words = list(sys.argv[1:] if argv is None else argv)
        known = set(next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices)
        command = next((w for w in words if not w.startswith("-")), None)
        if command is not None and command not in known:
            print(f"tradewatch: {command!r} is not available: {_lacks(sorted(set(missing.values())))}",
                  file=sys.stderr)
            return 1
    return run(parser, argv)


def entrypoint() -> None:
    sys.exit(main())
