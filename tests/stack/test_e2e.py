"""A breach, end to end on the real servers: metrics -> Prometheus (generated rules) -> Alertmanager
(generated routing) -> webhook. The right alert reaches the right receivers with the right labels and
annotations, within its detection floor; then the resolved notice follows.

The breach comes from a settable /metrics whose value we flip, so its instant is known exactly.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from generator.demo.receiver import AlertReceiver, Delivery
from generator.demo.settable_metrics import BREACHES, Breach, SettableMetrics, healthy
from generator.demo.stack import QUICK_SCRAPE, LocalStack, detection_floor
from generator.emit.rules import alert_annotations, alert_labels
from generator.kinds import kind_of, record_name
from generator.model import Spec
from generator.units import parse_duration
from tests.stack.conftest import fast, receivers_of

pytestmark = pytest.mark.servers

# Beyond the floor: HTTP hops, process scheduling, a busy CI machine.
SLACK = 2.0


@dataclass(frozen=True)
class Env:
    spec: Spec
    source: SettableMetrics
    receiver: AlertReceiver


@pytest.fixture(scope="module")
def env(default_spec: Spec, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    spec = fast(default_spec)
    workdir = tmp_path_factory.mktemp("e2e")
    with SettableMetrics.serve() as source, \
            AlertReceiver.serve("127.0.0.1", 0, log_file=workdir / "alerts.log") as rx, \
            LocalStack(workdir / "stack") as stack:
        healthy(source)
        stack.start_alertmanagers(spec, receiver_url=rx.url)
        (prometheus,) = stack.start_prometheus(spec, exporter=source.address, scrape_interval=QUICK_SCRAPE)
        # The floor is about a running system: wait for the first scrape and the first evaluation.
        wait_until_recorded(prometheus.url, [r for s in spec.signals if (r := record_name(s)) is not None])
        yield Env(spec, source, rx)


def wait_until_recorded(url: str, records: list[str], timeout: float = 20) -> None:
    query = f"count({' or '.join(records)})"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=2).json()["data"]["result"]:
            return
        time.sleep(0.1)
    raise AssertionError(f"Prometheus at {url}: no result for {query} within {timeout:.0f}s")


def shown(spec: Spec, breach: Breach) -> str:
    """How the alert's description shows the breach's value: a state's name, else the value humanized."""
    signal = next(a for a in spec.alerts if a.name == breach.alert).signal
    return kind_of(signal).render_value(signal, breach.bad)


def expected(spec: Spec, breach: Breach, instance: str) -> tuple[dict[str, str], dict[str, str]]:
    alert = next(a for a in spec.alerts if a.name == breach.alert)
    tier = next(t for t in alert.tiers if t.severity == breach.severity)
    kind = kind_of(alert.signal)
    # Per-instance kinds (state, gauge, absence) name the instance in trouble.
    series = {"job": spec.job, **({"instance": instance} if kind.per_instance else {}), **breach.labels}
    labels = {"alertname": alert.name, **series, **alert_labels(spec, alert, tier)}
    description = kind.describe(alert, tier, shown(spec, breach), kind.rendered_labels(alert.signal, series),
                                tier.display)
    return labels, alert_annotations(spec, alert, description, series)


@pytest.mark.parametrize("breach", BREACHES, ids=lambda b: b.alert)
def test_a_breach_notifies_its_receivers_with_its_texts_within_the_floor_then_resolves(
        env: Env, breach: Breach) -> None:
    spec, rx = env.spec, env.receiver
    tier = next(t for a in spec.alerts if a.name == breach.alert for t in a.tiers if t.severity == breach.severity)
    routes = receivers_of(spec, tier.priority)

    def of(status: str) -> list[Delivery]:
        return rx.wait_for(lambda d: d.alertname == breach.alert and d.status == status, timeout=30,
                           count=len(routes))

    t0 = env.source.set(breach.metric, breach.bad, **breach.labels)
    fired = of("firing")
    assert sorted(d.receiver for d in fired) == sorted(routes)
    labels, annotations = expected(spec, breach, env.source.address)
    for d in fired:
        assert d.labels == labels
        assert d.annotations == annotations

    for_ = tier.for_
    delay = min(d.received_at for d in fired) - t0
    floor = detection_floor(spec, for_, QUICK_SCRAPE)
    # A new alert group notifies no sooner than `for` + group_wait; the floor adds a scrape and an evaluation.
    assert parse_duration(for_) + parse_duration(spec.notifications.group_wait) <= delay
    assert delay <= floor + SLACK, f"{breach.alert}: {delay:.2f}s from breach to notification, floor {floor:.1f}s"
    print(f"\n{breach.alert}: detection delay {delay:.2f}s, floor {floor:.1f}s, ratio {delay / floor:.2f}")

    env.source.set(breach.metric, breach.healthy, **breach.labels)
    resolved = of("resolved")
    assert sorted(d.receiver for d in resolved) == sorted(routes)
    assert all(d.labels == labels for d in resolved)
    # Console and rotating file: every notification is a line of the alert log.
    assert rx.log_file is not None
    logged = rx.log_file.read_text()
    assert all(d.line() in logged for d in fired + resolved)
