"""``tradewatch report``: the performance report of a period, from a real Prometheus, as HTML and PDF."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from generator.conventions import DASHBOARDS_DIR
from generator.model import Spec
from generator.spec import load_or_say
from generator.units import UnitError, parse_duration

if TYPE_CHECKING:
    from generator.report.build import Report
    from generator.report.panels import Board
    from generator.report.query import Period

# The report's modules (matplotlib, numpy, the Prometheus client) are imported when a report is
# made: every tradewatch command registers this one, and importing them took half a second.


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text)
    except (UnitError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive duration")
    return seconds


def _instant(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither Unix seconds nor an ISO 8601 time") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser(
        "report", help="write the performance report of a period (HTML and PDF) from a real Prometheus",
        description="Read the spec's signals and alerts from Prometheus over a period (default: the last "
        "24 h) and write a self-contained HTML report and a PDF of the same: a KPI table against the "
        "spec's thresholds, every dashboard panel drawn with its thresholds and the alerts that fired on "
        "it, and the list of alerts. Writes nothing if Prometheus is unreachable or holds no data.")
    r.add_argument("spec", nargs="?", type=Path, default=Path("tradewatch.yaml"), metavar="SPEC",
                   help="threshold spec (default: %(default)s)")
    r.add_argument("--prometheus", default="http://127.0.0.1:9090", metavar="URL",
                   help="Prometheus to read (default: %(default)s)")
    r.add_argument("--period", type=_duration, default=86400.0, metavar="DURATION",
                   help="length of the period, e.g. 24h, 7d (default: 24h)")
    r.add_argument("--end", type=_instant, default=None, metavar="TIME",
                   help="end of the period, Unix seconds or ISO 8601 (default: now)")
    r.add_argument("--dashboards", type=Path, default=None, metavar="DIR",
                   help="generated dashboard JSON files to draw (default: dashboards/ beside the spec)")
    r.add_argument("--scrape-interval", type=_duration, default=15.0, metavar="DURATION",
                   help="scrape interval, for Grafana's $__rate_interval (default: 15s)")
    r.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="directory for report.html and report.pdf (default: reports/<spec name>/<end date>)")
    r.add_argument("--email", nargs="?", const="", default=None, metavar="RECEIVER",
                   help="mail the report through the spec's email receiver (the first one, or RECEIVER)")
    r.add_argument("--webhook", default=None, metavar="URL", help="post the report's summary as JSON to URL")
    r.add_argument("--alertmanager", default=None, metavar="URL",
                   help="post the info notice 'daily performance report ready' to this Alertmanager")
    r.set_defaults(func=cmd_report)


def make_report(spec: Spec, boards: list[Board], prometheus: str, period: Period,
                scrape_interval: float = 15.0) -> tuple[Report, dict[str, bytes]]:
    """The report and its files, in memory: nothing is written if any step fails."""
    from generator.report.build import build
    from generator.report.query import Source
    from generator.report.render import render

    source = Source(prometheus)
    try:
        report = build(spec, boards, source, period, scrape_interval)
    finally:
        source.close()
    return report, render(report)


def cmd_report(args: argparse.Namespace) -> int:
    from generator.report.panels import load_dashboards
    from generator.report.query import Period, ReportError
    from generator.report.render import write
    from generator.report.send import notify_alertmanager, post_webhook, send_email

    spec = load_or_say(args.spec, "report", "no report was written")
    if spec is None:
        return 1
    try:
        boards = load_dashboards(args.dashboards or args.spec.parent / DASHBOARDS_DIR)
        period = Period.last(args.period, now=args.end)
        report, files = make_report(spec, boards, args.prometheus, period, args.scrape_interval)
        out = args.out or Path("reports") / spec.name / datetime.fromtimestamp(period.end, UTC).strftime("%Y-%m-%d")
        paths = write(out, files)
    except ReportError as exc:
        print(f"tradewatch report: {exc}; no report was written", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"tradewatch report: cannot write the report: {exc}", file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    try:
        if args.email is not None:
            to = send_email(spec, args.email or None, report, files)
            print(f"mailed to {to}", file=sys.stderr)
        if args.webhook:
            post_webhook(args.webhook, report, paths)
            print(f"posted to {args.webhook}", file=sys.stderr)
        if args.alertmanager:
            notify_alertmanager(args.alertmanager, spec, report, paths)
            print(f"notice sent to {args.alertmanager}", file=sys.stderr)
    except ReportError as exc:
        print(f"tradewatch report: the report was written but not sent: {exc}", file=sys.stderr)
        return 1
    return 0
