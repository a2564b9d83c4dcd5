"""A 24 h report of the default spec, as a ratio to the time of the Prometheus queries it needs.

A real Prometheus is filled with a day of synthetic data for the default spec (the report tests'
data set, backfilled with promtool); the report is built and rendered (HTML and PDF) ``--rounds``
times. The baseline, measured in the same run, is the time Prometheus took to answer the very
queries the report sent. A ratio near 1 means the report adds little beyond asking; what it adds is
drawing and encoding the plots.

Run: ``python -m bench.report_bench [--rounds N]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from generator.report.build import build
from generator.report.panels import load_dashboards
from generator.report.query import Period, Source
from generator.report.render import render
from generator.spec import load
from tests.report.dayofdata import STEP, day_of_data

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    spec = load(ROOT / "tradewatch.yaml")
    boards = load_dashboards(ROOT / "dashboards")
    end = int(time.time()) // 3600 * 3600
    totals, queries, counts = [], [], []
    with tempfile.TemporaryDirectory(prefix="tradewatch-report-bench-") as tmp, \
            day_of_data(spec, Path(tmp), end) as day:
        period = Period.between(day.start, day.end)
        for _ in range(args.rounds):
            source = Source(day.url)
            started = time.perf_counter()
            render(build(spec, boards, source, period, scrape_interval=STEP))
            totals.append(time.perf_counter() - started)
            queries.append(source.query_seconds)
            counts.append(source.queries)
            source.close()
    total, asked = statistics.median(totals), statistics.median(queries)
    print(f"24 h report of {spec.source}: {counts[0]} queries, {period.samples} instants each; "
          f"median of {args.rounds} rounds")
    print(f"{'report (build + HTML + PDF)':<30} {total:>7.2f}s")
    print(f"{'its Prometheus queries':<30} {asked:>7.2f}s")
    print(f"{'report / queries':<30} {total / asked:>7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
