"""Generate and promtool test time as ratios to ``promtool check rules`` on the same files.

For specs of 10, 100 and 1,000 alerts that it writes itself (a mix of every thresholded kind over a
few dashboards), it times ``tradewatch generate`` and ``promtool test rules`` on the generated tests,
each as a ratio to ``promtool check rules`` parsing the generated rule files, measured in the same
run: the floor any tool that reads these files pays. Both should grow linearly with the alerts, so
the ratios stay flat as the spec grows. Targets at 1,000 alerts: generate within 3x, tests within 20x.

Run: ``python -m bench.rules_bench [--sizes 10 100 1000]``
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from generator.tools import Promtool

SIZES = (10, 100, 1000)
AREAS = 4
TARGETS = {"generate": 3.0, "tests": 20.0}
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]


def _signal(i: int) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Metrics, the signal and the alert tiers of the i-th alert: the kinds take turns."""
    area = f"area{i % AREAS}"
    kind = i % 6
    m = f"bench{i}"
    if kind == 0:
        return ({f"{m}_seconds": {"type": "histogram", "unit": "seconds", "buckets": BUCKETS}},
                {"dashboard": area, "quantile": {"metric": f"{m}_seconds", "q": 0.99, "window": "5m"}},
                {"warning": {"above": "100ms", "for": "5m"}, "critical": {"above": "500ms", "for": "2m"}})
    if kind == 1:
        return ({f"{m}_ok_total": {"type": "counter", "unit": "count"},
                 f"{m}_failed_total": {"type": "counter", "unit": "count"}},
                {"dashboard": area, "ratio": {"numerator": [{"metric": f"{m}_failed_total"}],
                                              "denominator": [{"metric": f"{m}_ok_total"},
                                                              {"metric": f"{m}_failed_total"}],
                                              "window": "5m"}},
                {"warning": {"above": "5%", "for": "5m"}, "critical": {"above": "10%", "for": "2m"}})
    if kind == 2:
        return ({f"{m}_messages_total": {"type": "counter", "unit": "count"}},
                {"dashboard": area, "rate": {"metric": f"{m}_messages_total", "window": "2m"}},
                {"warning": {"below": "5/s", "for": "5m"}})
    if kind == 3:
        return ({f"{m}_memory_bytes": {"type": "gauge", "unit": "bytes"}},
                {"dashboard": area, "gauge": {"metric": f"{m}_memory_bytes"}},
                {"warning": {"above": "2GiB", "for": "5m"}, "critical": {"above": "4GiB", "for": "1m"}})
    if kind == 4:
        return ({f"{m}_pauses_total": {"type": "counter", "unit": "count"}},
                {"dashboard": area, "increase": {"metric": f"{m}_pauses_total", "window": "1h"}},
                {"critical": {"above": 0, "for": "0s"}})
    return ({f"{m}_cpu_percent": {"type": "gauge", "unit": "percent"}},
            {"dashboard": area, "gauge": {"metric": f"{m}_cpu_percent", "aggregate": "max"}},
            {"warning": {"above": "60%", "for": "10m"}, "critical": {"above": "90%", "for": "5m"}})


def spec(alerts: int) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    signals: dict[str, Any] = {}
    rules: dict[str, Any] = {}
    for i in range(alerts):
        fams, signal, tiers = _signal(i)
        metrics.update(fams)
        signals[f"bench_{i}"] = {"title": f"Bench signal {i}", **signal}
        rules[f"BenchAlert{i}"] = {"signal": f"bench_{i}", "summary": f"Bench alert {i}", "tiers": tiers}
    return {
        "version": 1, "name": f"bench-{alerts}", "title": f"Bench {alerts}", "job": "bench",
        "evaluation_interval": "15s",
        "external_metrics": metrics,
        "dashboards": {"overview": {"title": "Overview", "description": "Bench."},
                       **{f"area{a}": {"title": f"Area {a}", "description": "Bench."} for a in range(AREAS)}},
        "signals": signals,
        "alerts": rules,
    }


def _timed(argv: Sequence[str], cwd: Path | None = None, repeat: int = 1) -> float:
    """The best of ``repeat`` runs: on a shared machine, the run least disturbed by others."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False)
        best = min(best, time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"rules_bench: {' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return best


def measure(alerts: int, workdir: Path, promtool: Promtool, repeat: int) -> dict[str, float]:
    folder = workdir / f"bench-{alerts}"
    folder.mkdir()
    spec_file = folder / "tradewatch.yaml"
    spec_file.write_text(yaml.safe_dump(spec(alerts), sort_keys=False))
    tradewatch = Path(sys.executable).with_name("tradewatch")
    generate = _timed([str(tradewatch), "generate", str(spec_file)], repeat=repeat)
    rule_files = sorted(str(p) for p in (folder / "alert_rules").glob("*.rules.yml"))
    check = _timed([str(promtool.path), "check", "rules", *rule_files], repeat=repeat)
    tests = folder / "alert_rules" / "tests"
    test_files = sorted(p.name for p in tests.glob("*.test.yml"))
    test = _timed([str(promtool.path), "test", "rules", *test_files], cwd=tests, repeat=repeat)
    return {"check": check, "generate": generate, "tests": test}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rules_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the fastest counts")
    args = parser.parse_args(argv)
    promtool = Promtool.find()
    status = 0
    print(f"{'alerts':>7} {'check rules':>12} {'generate':>10} {'ratio':>6} {'promtool test':>14} {'ratio':>6}")
    with tempfile.TemporaryDirectory(prefix="tw-rules-bench-") as tmp:
        for alerts in args.sizes:
            t = measure(alerts, Path(tmp), promtool, args.repeat)
            gen, tests = t["generate"] / t["check"], t["tests"] / t["check"]
            print(f"{alerts:>7} {t['check']:>11.2f}s {t['generate']:>9.2f}s {gen:>5.1f}x {t['tests']:>13.2f}s "
                  f"{tests:>5.1f}x", flush=True)
            if alerts == max(args.sizes) and (gen > TARGETS["generate"] or tests > TARGETS["tests"]):
                print(f"  above target at {alerts} alerts: generate <= {TARGETS['generate']:g}x, "
                      f"tests <= {TARGETS['tests']:g}x")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
