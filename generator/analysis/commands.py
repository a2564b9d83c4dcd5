"""``tradewatch baseline capture`` and ``tradewatch baseline diff``: regression checks for CI."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import UTC, datetime
from pathlib import Path

from generator.analysis import baseline
from generator.analysis.model import Kpi, Regressions
from generator.model import Spec
from generator.spec import load_or_say
from generator.units import format_quantity
from generator.writer import write_atomic

EXIT_REGRESSION = 1
EXIT_ERROR = 2


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = sub.add_parser("baseline", help="capture KPI baselines from Prometheus; compare now with them",
                       description="Regression detection against a committed baseline of the spec's KPIs "
                       "(its regressions: section).")
    bsub = b.add_subparsers(dest="baseline_command", metavar="ACTION", required=True)
    for name, helptext, window in (
        ("capture", "measure each KPI over --window and write the baseline file (review and commit it)", "7d"),
        ("diff", "print KPI, baseline, now and change; exit 1 on a regression, 2 if it cannot tell", "1h"),
    ):
        p = bsub.add_parser(name, help=helptext, description=helptext[0].upper() + helptext[1:] + ".")
        p.add_argument("spec", nargs="?", type=Path, default=Path("tradewatch.yaml"), metavar="SPEC",
                       help="the spec (default: tradewatch.yaml)")
        p.add_argument("--prometheus", required=True, metavar="URL", help="Prometheus that evaluates the spec's rules")
        p.add_argument("--window", default=window, help=f"the KPIs are averaged over this (default {window})")
        p.add_argument("--baseline", type=Path, default=None, metavar="FILE",
                       help="the baseline file (default: the spec's regressions.baseline, beside the spec)")
        p.set_defaults(func=cmd_capture if name == "capture" else cmd_diff)


def _fail(message: str) -> int:
    print(f"tradewatch baseline: {message}", file=sys.stderr)
    return EXIT_ERROR


def _load(args: argparse.Namespace) -> tuple[Spec, Regressions, Path] | None:
    """The spec, its KPIs and baseline file, for both subcommands; None once the problem is printed."""
    if (problem := baseline.check_window(args.window)) is not None:
        _fail(problem)
        return None
    spec = load_or_say(args.spec, "baseline", "nothing was read or written")
    if spec is None:
        return None
    r = spec.analysis.regressions if spec.analysis else None
    if r is None or not r.kpis:
        print(f"tradewatch baseline: {args.spec} names no KPIs; add a regressions: section with kpis",
              file=sys.stderr)
        return None
    path = args.baseline or args.spec.parent / r.baseline_file
    return spec, r, path


def cmd_capture(args: argparse.Namespace) -> int:
    loaded = _load(args)
    if loaded is None:
        return EXIT_ERROR
    spec, r, path = loaded
    values: dict[str, tuple[Kpi, float]] = {}
    missing = []
    try:
        for kpi in r.kpis:
            value = baseline.measure(args.prometheus, kpi, args.window, spec.job)
            if value is None:
                missing.append(f"{kpi.name} ({baseline.kpi_query(kpi, args.window, spec.job)})")
            else:
                values[kpi.name] = (kpi, value)
    except baseline.PrometheusError as exc:
        return _fail(f"{exc}; {path} was not written")
    if missing:
        return _fail(f"no data for {', '.join(missing)}; {path} was not written")
    captured_at = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    text = baseline.render(spec.source, values, captured_at=captured_at, window=args.window,
                           prometheus=args.prometheus, job=spec.job)
    try:
        write_atomic(path, text)
    except OSError as exc:
        return _fail(f"cannot write {path}: {exc.strerror}")
    width = max(len(name) for name in values)
    for name, (kpi, value) in values.items():
        print(f"{name.ljust(width)}  {format_quantity(value, kpi.signal.dim)}")
    print(f"wrote {path}: review it, commit it, and run `make generate` to alert on regressions against it")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    loaded = _load(args)
    if loaded is None:
        return EXIT_ERROR
    spec, r, path = loaded
    values, errors = baseline.read(path, str(path))
    if errors:
        for err in errors:
            print(err, file=sys.stderr)
        return EXIT_ERROR
    if not values:
        return _fail(f"no baseline at {path}; run `tradewatch baseline capture --prometheus URL` first")
    changes = []
    try:
        for spec_kpi in r.kpis:
            if spec_kpi.name not in values:
                print(f"tradewatch baseline: {spec_kpi.name} is not in {path}; capture again to include it",
                      file=sys.stderr)
                continue
            kpi = dataclasses.replace(spec_kpi, baseline=values[spec_kpi.name])
            now = baseline.measure(args.prometheus, kpi, args.window, spec.job)
            changes.append(baseline.Change(kpi, values[spec_kpi.name].value, now))
    except baseline.PrometheusError as exc:
        return _fail(str(exc))
    print(f"baseline {path} (over {next(iter(values.values())).window} before "
          f"{next(iter(values.values())).captured_at}); now: the last {args.window}")
    print(baseline.table(changes))
    regressed = [c.kpi.name for c in changes if c.regressed]
    if regressed:
        print(f"REGRESSION: {', '.join(regressed)} worse than the baseline by more than the tolerance")
        return EXIT_REGRESSION
    if any(c.now is None for c in changes):
        return _fail("some KPIs have no data now, so no verdict")
    print("no regression")
    return 0

