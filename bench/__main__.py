"""`make bench`: every benchmark, each reporting ratios against a baseline measured in the same run."""

from __future__ import annotations

import sys

from bench import detection_bench, exporter_bench, report_bench, rules_bench


def main() -> int:
    status = 0
    benches = (("exporter", exporter_bench.main), ("detection delay", detection_bench.main),
               ("rules: generate and promtool test against promtool check", rules_bench.main),
               ("daily report", report_bench.main))
    for name, run in benches:
        print(f"\n=== {name} ===", flush=True)
        status |= run([])
    return status


if __name__ == "__main__":
    sys.exit(main())
