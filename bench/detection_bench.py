"""Detection delay, breach -> first notification, on the real Prometheus and Alertmanager, as a ratio to
its floor (``for`` + scrape interval + evaluation interval + ``group_wait``).

A settable /metrics flips one gauge of the default spec (the breach instant is known exactly); the rules
and routing are generated from the spec with the stack tests' quick timings. Each breach is measured
``--rounds`` times, recovering in between. A ratio near or under 1 means the pipeline adds nothing
beyond the configured waits; the floor itself is the knob (shorter ``for``, scrape or ``group_wait``).

Run: ``python -m bench.detection_bench [--rounds N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests

from generator.demo.receiver import AlertReceiver
from generator.demo.settable_metrics import BREACHES, PINNED_FOR, Breach, SettableMetrics, healthy
from generator.demo.stack import QUICK_SCRAPE, LocalStack, detection_floor, quick, tier_for
from generator.spec import load

SPEC = Path(__file__).resolve().parent.parent / "tradewatch.yaml"
TIMEOUT = 90.0


def _wait(holds: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not holds():
        if time.monotonic() > deadline:
            raise SystemExit(f"detection_bench: timed out waiting for {what}")
        time.sleep(0.05)


def _quiet(prometheus: str) -> bool:
    return not requests.get(f"{prometheus}/api/v1/alerts", timeout=2).json()["data"]["alerts"]


def _first(rx: AlertReceiver, breach: Breach, status: str, since: float) -> float:
    found = rx.wait_for(lambda d: d.alertname == breach.alert and d.status == status and d.received_at >= since,
                        timeout=TIMEOUT)
    if not found:
        raise SystemExit(f"detection_bench: no {status} notification of {breach.alert}")
    return min(d.received_at for d in found)


def _no_group(alertmanager: str) -> bool:
    """No aggregation group left, resolved ones included (the groups API hides those; the metric does not)."""
    text = requests.get(f"{alertmanager}/metrics", timeout=2).text
    return "\nalertmanager_dispatcher_aggregation_groups 0\n" in text


def measure(breach: Breach, source: SettableMetrics, rx: AlertReceiver, prometheus: str, alertmanager: str) -> float:
    """One breach: seconds from the gauge flipping to the first notification; then recover fully.

    Alertmanager drops an emptied alert group up to 30s after its resolved notice; until then a new
    breach joins the old group and is notified at its next ``group_interval`` tick instead of after
    ``group_wait``. Waiting for the group to go makes every round the case the floor describes.
    """
    _wait(lambda: _quiet(prometheus) and _no_group(alertmanager), "the previous round to clear")
    t0 = source.set(breach.metric, breach.bad, **breach.labels)
    delay = _first(rx, breach, "firing", t0) - t0
    _first(rx, breach, "resolved", source.set(breach.metric, breach.healthy, **breach.labels))
    return delay


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.detection_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="breaches measured per alert (default: 3)")
    args = parser.parse_args(argv)
    spec = quick(load(SPEC), PINNED_FOR)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tradewatch-bench-") as tmp, SettableMetrics.serve() as source, \
            AlertReceiver.serve("127.0.0.1", 0) as rx, LocalStack(Path(tmp)) as stack:
        healthy(source)
        (am,) = stack.start_alertmanagers(spec, receiver_url=rx.url)
        (prometheus,) = stack.start_prometheus(spec, exporter=source.address, scrape_interval=QUICK_SCRAPE)
        _wait(lambda: requests.get(f"{prometheus.url}/api/v1/query", params={"query": "up == 1"},
                                   timeout=2).json()["data"]["result"], "the first scrape")
        for breach in BREACHES:
            for_ = tier_for(spec, breach.alert, breach.severity)
            floor = detection_floor(spec, for_, QUICK_SCRAPE)
            delays = [measure(breach, source, rx, prometheus.url, am.url) for _ in range(args.rounds)]
            rows.append((breach.alert, for_, floor, delays))
    print(f"detection delay, breach -> first notification; floor = for + scrape {QUICK_SCRAPE} + evaluation "
          f"{spec.evaluation_interval} + group_wait {spec.notifications.group_wait}; {args.rounds} rounds each")
    print(f"{'alert':<24} {'for':>4} {'floor':>6} {'min':>6} {'median':>7} {'max':>6} {'median/floor':>13}")
    for name, for_, floor, delays in rows:
        median = statistics.median(delays)
        print(f"{name:<24} {for_:>4} {floor:>5.1f}s {min(delays):>5.2f}s {median:>6.2f}s {max(delays):>5.2f}s "
              f"{median / floor:>13.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
