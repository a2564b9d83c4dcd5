"""``tradewatch validate`` and ``tradewatch generate``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator import generate, writer
from generator.errors import SpecErrors
from generator.spec import load

DEFAULT_SPEC = Path("tradewatch.yaml")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    v = sub.add_parser("validate", help="check specs and report every error with file, line and path",
                       description="Check threshold specs against the schema and each other; print every "
                       "problem as FILE:LINE:COLUMN: PATH: MESSAGE. Writes nothing.")
    v.add_argument("specs", nargs="*", type=Path, default=[DEFAULT_SPEC], metavar="SPEC",
                   help="spec files (default: tradewatch.yaml)")
    v.set_defaults(func=cmd_validate)

    g = sub.add_parser("generate", help="write rules, dashboards and tests from specs",
                       description="Generate every output of each spec into the spec's own directory "
                       "(alert_rules/, dashboards/, ...). Nothing is written unless every spec is valid "
                       "and every file rendered.")
    g.add_argument("specs", nargs="*", type=Path, default=[DEFAULT_SPEC], metavar="SPEC",
                   help="spec files (default: tradewatch.yaml)")
    g.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 if any generated file differs from what the spec makes")
    g.set_defaults(func=cmd_generate)


def _load_all(paths: list[Path]) -> list[tuple[Path, dict[str, str]]] | None:
    rendered = []
    failed = False
    for path in paths:
        try:
            spec = load(path)
        except SpecErrors as exc:
            print(exc, file=sys.stderr)
            failed = True
            continue
        rendered.append((path.parent, generate.render(spec)))
    if failed:
        print("tradewatch: the spec has errors; no file was written", file=sys.stderr)
        return None
    return rendered


def cmd_validate(args: argparse.Namespace) -> int:
    rendered = _load_all(args.specs)
    if rendered is None:
        return 1
    for path in args.specs:
        print(f"{path}: ok")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    rendered = _load_all(args.specs)
    if rendered is None:
        return 1
    if args.check:
        drifted = False
        for root, files in rendered:
            drift = writer.compare(root, files)
            for line in drift.lines():
                print(f"{root / line.split(': ', 1)[1]}: {line.split(': ', 1)[0]}", file=sys.stderr)
            drifted = drifted or bool(drift)
        if drifted:
            print("tradewatch: generated files are out of date; run `make generate` and commit", file=sys.stderr)
            return 1
        print("generated files are up to date")
        return 0
    for root, files in rendered:
        drift = writer.write(root, files)
        changed = len(drift.changed) + len(drift.missing) + len(drift.stale)
        print(f"{root}: {len(files)} files, {changed} changed" if changed else f"{root}: {len(files)} files, unchanged")
    return 0
