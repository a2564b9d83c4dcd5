"""Detection delay, breach -> first notification, on the real Prometheus and Alertmanager: the whole
delay against its worst case (``for`` + scrape interval + evaluation interval + ``group_wait``), and the
part of it beyond the waits the configuration imposes.

A settable /metrics flips one gauge of the default spec (the breach instant is known exactly); the rules
and routing are generated from the spec with the stack tests' quick timings. Each breach is measured
``--rounds`` times, recovering in between. Where the breach falls between scrapes decides most of the
delay, so the whole delay is reported against the worst case, not a floor. What the pipeline itself
adds is the delay minus the wait for the next scrape that sees the breach, the wait for the next rule
evaluation after it, ``for`` (in whole evaluations) and ``group_wait``: both instants are read back from
Prometheus (the sample's scrape timestamp, the rule group's evaluation phase).

Run: ``python -m bench.detection_bench [--rounds N]``
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import requests

from generator.demo.receiver import AlertReceiver
from generator.demo.settable_metrics import BREACHES, PINNED_FOR, Breach, SettableMetrics, healthy
from generator.demo.stack import QUICK_SCRAPE, LocalStack, detection_floor, quick, tier_for
from generator.spec import load
from generator.units import parse_duration

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


def _scraped_at(prometheus: str, breach: Breach, since: float) -> float:
    """Timestamp of the first scrape that saw the breach (Prometheus stamps a sample with its scrape's start)."""
    matchers = ",".join(f'{k}="{v}"' for k, v in sorted(breach.labels.items()))
    data = requests.get(f"{prometheus}/api/v1/query", params={"query": f"{breach.metric}{{{matchers}}}[5m]"},
                        timeout=2).json()["data"]["result"]
    seen = [float(ts) for series in data for ts, value in series["values"]
            if float(value) == breach.bad and float(ts) >= since - 0.5]
    if not seen:
        raise SystemExit(f"detection_bench: no scrape of {breach.metric} saw the breach")
    return min(seen)


def _evaluations(prometheus: str, alert: str) -> tuple[float, float]:
    """(one evaluation instant, interval) of the rule group holding ``alert``: its evaluations' phase."""
    for group in requests.get(f"{prometheus}/api/v1/rules", timeout=2).json()["data"]["groups"]:
        if any(r.get("name") == alert for r in group["rules"]):
            stamp = group["lastEvaluation"].rstrip("Z")
            whole, _, fraction = stamp.partition(".")
            at = datetime.fromisoformat(whole + "+00:00").timestamp() + float(f"0.{fraction or 0}")
            return at, float(group["interval"])
    raise SystemExit(f"detection_bench: no rule group holds {alert}")


def beyond_waits(delay: float, breach_at: float, scraped: float, evaluation: tuple[float, float], *, for_: float,
                 group_wait: float) -> float:
    """The part of ``delay`` the configuration does not explain: the pipeline's own work."""
    phase, interval = evaluation
    judged = phase + math.ceil((scraped - phase) / interval) * interval  # first evaluation after the scrape
    fired = judged + math.ceil(for_ / interval - 1e-9) * interval
    return delay - (fired + group_wait - breach_at)


def measure(breach: Breach, source: SettableMetrics, rx: AlertReceiver, prometheus: str,
            alertmanager: str) -> tuple[float, float, float]:
    """One breach: (breach instant, first scrape that saw it, seconds to the first notification); then
    recover fully.

    Alertmanager drops an emptied alert group up to 30s after its resolved notice; until then a new
    breach joins the old group and is notified at its next ``group_interval`` tick instead of after
    ``group_wait``. Waiting for the group to go makes every round the case the floor describes.
    """
    _wait(lambda: _quiet(prometheus) and _no_group(alertmanager), "the previous round to clear")
    t0 = source.set(breach.metric, breach.bad, **breach.labels)
    delay = _first(rx, breach, "firing", t0) - t0
    scraped = _scraped_at(prometheus, breach, t0)
    _first(rx, breach, "resolved", source.set(breach.metric, breach.healthy, **breach.labels))
    return t0, scraped, delay


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
            rounds = [measure(breach, source, rx, prometheus.url, am.url) for _ in range(args.rounds)]
            evaluation = _evaluations(prometheus.url, breach.alert)
            group_wait = parse_duration(spec.notifications.group_wait)
            delays = [delay for _, _, delay in rounds]
            extra = [beyond_waits(delay, t0, scraped, evaluation, for_=parse_duration(for_), group_wait=group_wait)
                     for t0, scraped, delay in rounds]
            rows.append((breach.alert, for_, floor, delays, extra))
    print(f"detection delay, breach -> first notification; worst case = for + scrape {QUICK_SCRAPE} + evaluation "
          f"{spec.evaluation_interval} + group_wait {spec.notifications.group_wait}; {args.rounds} rounds each")
    print("beyond waits = the delay minus for, group_wait and the waits for the next scrape and evaluation")
    print(f"{'alert':<24} {'for':>4} {'worst':>6} {'min':>6} {'median':>7} {'max':>6} {'median/worst':>13} "
          f"{'beyond waits (ms)':>18}")
    for name, for_, floor, delays, extra in rows:
        median = statistics.median(delays)
        beyond = f"{min(extra) * 1e3:.0f}-{max(extra) * 1e3:.0f}"
        print(f"{name:<24} {for_:>4} {floor:>5.1f}s {min(delays):>5.2f}s {median:>6.2f}s {max(delays):>5.2f}s "
              f"{median / floor:>13.2f} {beyond:>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
