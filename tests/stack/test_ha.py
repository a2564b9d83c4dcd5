"""High availability as Prometheus users run it: two identical Prometheus servers, each sending every
alert to both Alertmanagers, which gossip on loopback as one cluster. Each notification reaches each
receiver exactly once, and still does after one Alertmanager is killed (SIGKILL, as a crash).
"""

from __future__ import annotations

import pytest

from generator.demo.receiver import AlertReceiver, Delivery
from generator.demo.settable_metrics import BREAKER, SettableMetrics
from generator.demo.stack import QUICK_SCRAPE, LocalStack, with_timing
from generator.model import Spec
from generator.units import parse_duration
from tests.stack.conftest import fast, receivers_of

pytestmark = pytest.mark.servers

# As in production (peer_timeout 15s, group_interval 1m), a peer's wait for its position must be shorter
# than the group interval: the second peer decides on what it saw at its flush, one wait earlier, and a
# wait as long as the interval would make it send a notice the first peer already sent.
PEER_TIMEOUT = "1s"
GROUP_INTERVAL = "4s"
ALERT = BREAKER.alert


def exactly_once_each(rx: AlertReceiver, spec: Spec, status: str, since: float) -> list[Delivery]:
    """Wait for one ``status`` notification per receiver after ``since``, then for any duplicate.

    A second peer sends a duplicate, if it does, one position wait (``peer_timeout``) after its flush:
    watching for twice that, and a second more, is enough to see one.
    """
    wanted = receivers_of(spec, "critical")

    def match(d: Delivery) -> bool:
        return d.alertname == ALERT and d.status == status and d.received_at >= since

    first = rx.wait_for(match, timeout=45, count=len(wanted))
    assert sorted(d.receiver for d in first) == sorted(wanted), f"{status}: {rx.deliveries()}"
    watch = 2 * parse_duration(PEER_TIMEOUT) + 1
    duplicate = rx.wait_for(match, timeout=watch, count=len(wanted) + 1)
    assert duplicate == [], f"{status} notified more than once: {[(d.receiver, d.received_at) for d in duplicate]}"
    return first


def test_two_prometheus_and_two_clustered_alertmanagers_notify_exactly_once_even_after_a_peer_dies(
        default_spec: Spec, source: SettableMetrics, receiver: AlertReceiver, stack: LocalStack) -> None:
    spec = with_timing(fast(default_spec), group_interval=GROUP_INTERVAL)
    peers = stack.start_alertmanagers(spec, receiver_url=receiver.url, count=2, peer_timeout=PEER_TIMEOUT)
    assert all(p.cluster_address.startswith("127.0.0.1:") for p in peers)
    stack.start_prometheus(spec, exporter=source.address, count=2, scrape_interval=QUICK_SCRAPE)

    t = source.set(BREAKER.metric, BREAKER.bad)
    exactly_once_each(receiver, spec, "firing", t)
    t = source.set(BREAKER.metric, BREAKER.healthy)
    exactly_once_each(receiver, spec, "resolved", t)

    stack.kill(peers[0])
    assert not peers[0].process.alive()
    t = source.set(BREAKER.metric, BREAKER.bad)
    exactly_once_each(receiver, spec, "firing", t)
    t = source.set(BREAKER.metric, BREAKER.healthy)
    exactly_once_each(receiver, spec, "resolved", t)
    assert peers[1].process.alive()
