"""The real Prometheus and Alertmanager on free loopback ports, running the spec's generated rules and
routing: used by ``tradewatch demo``, the stack tests and the detection benchmark.

What differs from production is said here, in one place:
- runtime configs live in a scratch directory, never in the repository;
- every receiver (pager, chat, email...) becomes a webhook to a local receiver at ``/<receiver name>``,
  so the generated routing tree is exercised as it is, and deliveries can be observed;
- ``scaled`` divides every duration of the spec by a factor, so a scenario of minutes fits in seconds
  (the rules are then generated from the scaled spec by the same emitters).

Example::

    with LocalStack(workdir) as stack:
        stack.start_alertmanagers(spec, receiver_url=rx.url, count=2)
        stack.start_prometheus(spec, exporter="127.0.0.1:9105", count=2)
        print(stack.prometheus[0].url)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from generator import generate
from generator.conventions import RULES_DIR
from generator.emit import alertmanager, prometheus_config
from generator.kinds import kind_of
from generator.model import Notifications, PriorityRoute, Signal, Spec, Tier
from generator.procs import ManagedProcess, free_port, http_ready
from generator.render import to_yaml
from generator.tools import find_binary
from generator.units import Duration, format_duration, parse_duration

# Shortest durations a scaled spec gets: one evaluation, and enough samples for rate() at 1s scrapes.
MIN_INTERVAL = 1.0
MIN_WINDOW = 5.0


def _scale(duration: Duration, factor: float, floor: float) -> Duration:
    seconds = parse_duration(duration)
    if seconds == 0:
        return duration
    return format_duration(max(round(seconds / factor), floor))


def _scale_signal(signal: Signal, factor: float) -> Signal:
    kind = kind_of(signal)
    window = kind.window(signal)
    return signal if window is None else kind.with_window(signal, _scale(Duration(window), factor, MIN_WINDOW))


def scaled(spec: Spec, factor: float) -> Spec:
    """``spec`` with time running ``factor`` times faster: windows, ``for``, evaluation, grouping, repeats.

    Thresholds, labels and routes are untouched; only the clock changes.
    """
    if factor == 1:
        return spec
    signals = {s.name: _scale_signal(s, factor) for s in spec.signals}

    def tier(t: Tier) -> Tier:
        return dataclasses.replace(t, for_=_scale(t.for_, factor, MIN_INTERVAL))

    alerts = tuple(dataclasses.replace(a, signal=signals[a.signal.name], tiers=tuple(map(tier, a.tiers)))
                   for a in spec.alerts)
    n: Notifications = spec.notifications
    notes = dataclasses.replace(
        n,
        group_wait=_scale(n.group_wait, factor, MIN_INTERVAL),
        group_interval=_scale(n.group_interval, factor, MIN_INTERVAL),
        repeat_interval=_scale(n.repeat_interval, factor, MIN_INTERVAL),
        escalate_window=_scale(n.escalate_window, factor, MIN_WINDOW),
        routes=tuple(PriorityRoute(r.priority, r.receivers, _scale(r.repeat_interval, factor, MIN_INTERVAL))
                     for r in n.routes),
    )
    return dataclasses.replace(
        spec, evaluation_interval=_scale(spec.evaluation_interval, factor, MIN_INTERVAL),
        signals=tuple(signals.values()), alerts=alerts, notifications=notes,
    )


def with_timing(spec: Spec, *, evaluation_interval: str | None = None, group_wait: str | None = None,
                group_interval: str | None = None, for_: Mapping[str, str] | None = None) -> Spec:
    """``spec`` with some timings set outright (tests pin them rather than scale them); ``for_`` maps
    alert names to the ``for`` of all their tiers."""
    n = spec.notifications
    notes = dataclasses.replace(n, group_wait=Duration(group_wait or n.group_wait),
                                group_interval=Duration(group_interval or n.group_interval))
    pinned = for_ or {}
    alerts = tuple(
        dataclasses.replace(a, tiers=tuple(dataclasses.replace(t, for_=Duration(pinned[a.name])) for t in a.tiers))
        if a.name in pinned else a
        for a in spec.alerts)
    return dataclasses.replace(spec, evaluation_interval=Duration(evaluation_interval or spec.evaluation_interval),
                               notifications=notes, alerts=alerts)


# Measuring in seconds: scrape and evaluate every second, Alertmanager groups after a second. Used by
# the stack tests and the detection benchmark, whose floors these timings set.
QUICK_SCRAPE = "1s"


def quick(spec: Spec, for_: Mapping[str, str] | None = None) -> Spec:
    """``spec`` with the quick timings; ``for_`` pins the ``for`` of some alerts (name -> duration)."""
    return with_timing(spec, evaluation_interval="1s", group_wait="1s", group_interval="1s", for_=for_)


def detection_floor(spec: Spec, for_: str, scrape_interval: str) -> float:
    """The delay a breach cannot beat by much: ``for`` + scrape + evaluation interval + ``group_wait``.

    A breach waits up to one scrape to be seen and one evaluation to be judged, then ``for``, then
    Alertmanager's ``group_wait`` before the first notification of a new group.
    """
    return sum(parse_duration(d) for d in (for_, scrape_interval, spec.evaluation_interval,
                                           spec.notifications.group_wait))


def tier_for(spec: Spec, alert: str, severity: str) -> str:
    return next(t.for_ for a in spec.alerts if a.name == alert for t in a.tiers if t.severity == severity)


def rule_files(spec: Spec) -> dict[str, str]:
    """Every rule file ``tradewatch generate`` writes for ``spec`` (name -> text), tests excluded."""
    prefix = f"{RULES_DIR}/"
    return {path[len(prefix):]: text for path, text in generate.render(spec).items()
            if path.startswith(prefix) and "/" not in path[len(prefix):] and path.endswith(".rules.yml")}


def local_alertmanager_config(spec: Spec, receiver_url: str) -> dict[str, Any]:
    """The generated configuration, every receiver replaced by a webhook to ``receiver_url/<name>``."""
    config = alertmanager.build(spec)
    config["receivers"] = [
        {"name": r["name"], "webhook_configs": [
            {"url": f"{receiver_url.rstrip('/')}/{r['name']}", "send_resolved": spec.notifications.resolved}]}
        for r in config["receivers"]
    ]
    return config


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    process: ManagedProcess
    cluster_address: str = ""


class LocalStack:
    """Owns every process it starts and stops them all (process groups) when closed."""

    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.prometheus: list[Server] = []
        self.alertmanagers: list[Server] = []
        self._exit = ExitStack()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._exit.close()

    def start(self, argv: Sequence[str], name: str, ready_url: str) -> ManagedProcess:
        """Any server, logged to ``<workdir>/<name>.log``, stopped with the stack (the last started first)."""
        proc = ManagedProcess.start(argv, ready=http_ready(ready_url), log_path=self.workdir / f"{name}.log",
                                    timeout=30)
        self._exit.callback(proc.stop)
        return proc

    def start_alertmanagers(self, spec: Spec, *, receiver_url: str, count: int = 1,
                            peer_timeout: str = "2s") -> list[Server]:
        """``count`` Alertmanagers; with two or more they form one gossip cluster on loopback."""
        binary = find_binary("prometheus-alertmanager", "TRADEWATCH_ALERTMANAGER", "prometheus-alertmanager")
        config = self.workdir / "alertmanager.yml"
        config.write_text(to_yaml(local_alertmanager_config(spec, receiver_url), source=spec.source))
        cluster = [f"127.0.0.1:{free_port()}" for _ in range(count)] if count > 1 else []
        for i in range(count):
            name = f"alertmanager-{i}"
            port = free_port()
            argv = [binary, f"--config.file={config}", f"--storage.path={self.workdir / name}",
                    f"--web.listen-address=127.0.0.1:{port}"]
            if cluster:
                argv += [f"--cluster.listen-address={cluster[i]}",
                         f"--cluster.advertise-address={cluster[i]}",
                         f"--cluster.peer-timeout={peer_timeout}",
                         *(f"--cluster.peer={peer}" for peer in cluster if peer != cluster[i])]
            else:
                argv.append("--cluster.listen-address=")  # no gossip: nothing listens on 0.0.0.0:9094
            url = f"http://127.0.0.1:{port}"
            proc = self.start(argv, name, f"{url}/-/ready")
            self.alertmanagers.append(Server(name, url, proc, cluster[i] if cluster else ""))
        return self.alertmanagers

    def start_prometheus(self, spec: Spec, *, exporter: str, count: int = 1,
                         scrape_interval: str = "1s") -> list[Server]:
        """``count`` identical Prometheus servers scraping ``exporter``, each alerting every Alertmanager."""
        binary = find_binary("prometheus", "TRADEWATCH_PROMETHEUS", "prometheus")
        rules_dir = self.workdir / "rules"
        rules_dir.mkdir(parents=True, exist_ok=True)
        for name, text in rule_files(spec).items():
            (rules_dir / name).write_text(text)
        targets = [a.url.removeprefix("http://") for a in self.alertmanagers]
        config = self.workdir / "prometheus.yml"
        config.write_text(to_yaml(prometheus_config.build(
            spec, exporter=exporter, alertmanagers=targets, rule_files=[str(rules_dir / "*.rules.yml")],
            scrape_interval=scrape_interval), source=spec.source))
        for i in range(count):
            name = f"prometheus-{i}"
            port = free_port()
            argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={self.workdir / name}",
                    f"--web.listen-address=127.0.0.1:{port}", "--web.enable-lifecycle"]
            url = f"http://127.0.0.1:{port}"
            proc = self.start(argv, name, f"{url}/-/ready")
            self.prometheus.append(Server(name, url, proc))
        return self.prometheus

    def kill(self, server: Server) -> None:
        """SIGKILL one server, as a crash would."""
        server.process.kill()
