"""``tradewatch deploy`` and ``tradewatch diff``.

Exit codes: 0 done (or, for a plan, planned); 1 something did not land, or nothing could start
(bad settings, credentials, unreachable host: then nothing was changed); 2 bad command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from generator.deploy.config import DEFAULT_CONFIG, add_arguments, resolve
from generator.deploy.errors import DeployError
from generator.deploy.plan import apply
from generator.deploy.run import make_plan

DEFAULT_SPEC = Path("tradewatch.yaml")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser(
        "deploy", help="make Grafana and the rule evaluator match the repository",
        description="Plan, then apply: the folder, data sources and dashboards into Grafana; alert rules "
        "into Prometheus (rule dir + reload), a Mimir/Cortex ruler, or Grafana-managed rules. Prints each "
        "object as create / update / unchanged / would-delete with a diff, then what landed. Only objects "
        "tradewatch owns are written; stale ones are deleted only with --prune. Credentials come from "
        "GRAFANA_TOKEN (or GRAFANA_USER and GRAFANA_PASSWORD) and MIMIR_TOKEN (or MIMIR_USER and "
        "MIMIR_PASSWORD).")
    _common(d)
    d.add_argument("--dry-run", action="store_true", help="print the plan and change nothing (= tradewatch diff)")
    d.set_defaults(func=cmd_deploy)

    p = sub.add_parser("diff", help="show what `tradewatch deploy` would change; change nothing",
                       description="Read Grafana and the rule evaluator and print the plan with a diff per "
                       "changed object. Writes nothing.")
    _common(p)
    p.set_defaults(func=cmd_deploy, dry_run=True)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", nargs="?", type=Path, default=DEFAULT_SPEC, metavar="SPEC",
                        help="the spec file (default: tradewatch.yaml)")
    parser.add_argument("--prune", action="store_true",
                        help="delete objects tradewatch owns that the spec no longer generates")
    add_arguments(parser)


def cmd_deploy(args: argparse.Namespace) -> int:
    from generator.generate import render
    from generator.spec import load_or_say

    spec = load_or_say(args.spec, "deploy", "nothing was changed")
    if spec is None:
        return 1
    root = args.spec.parent
    try:
        cfg = resolve(vars(args), os.environ, args.config, default_config=root / DEFAULT_CONFIG)
        if cfg.evaluator is None:
            cfg = dataclasses.replace(cfg, evaluator=spec.evaluator)
        with ExitStack() as stack:
            plan = make_plan(spec, render(spec), cfg, prune=args.prune, root=root, stack=stack)
            print(plan.render(), end="", flush=True)
            if args.dry_run:
                print("Dry run: nothing was changed.")
                return 0
            report = apply(plan.steps)
            print(report.render(), end="")
            return 0 if report.ok else 1
    except DeployError as exc:
        print(f"tradewatch deploy: {exc}\nNothing was changed.", file=sys.stderr)
        return 1
