"""``tradewatch demo``: the exporter's simulator, a real Prometheus and Alertmanager, and the alert log,
all on loopback, playing a scenario while the terminal shows what each alert does.

Time runs ``SPEED`` times faster than in production: the spec's windows, ``for`` durations,
evaluation, grouping and repeat intervals are divided by it (``stack.scaled``) and the rules and
routing are generated from that spec by the same emitters as ``make generate``. Thresholds, labels,
routes and inhibitions are the spec's own.

Example::

    $ tradewatch demo
    Prometheus    http://127.0.0.1:41234
    ...
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import requests

from exporters.simulate import Phase, scenario
from generator.conventions import DASHBOARDS_DIR, OVERVIEW
from generator.demo.receiver import AlertReceiver, Delivery
from generator.demo.stack import LocalStack, detection_floor, scaled
from generator.errors import SpecErrors
from generator.model import Spec
from generator.procs import ProcessError, free_port
from generator.spec import load
from generator.tools import ToolNotFound, find_binary
from generator.units import parse_duration

SPEED = 30
SCRAPE_INTERVAL = "1s"
# Sized for the default spec at SPEED: each anomaly outlasts its alert's (scaled) window and `for`,
# and the calm after it is long enough for the alert to resolve.
SCENARIO = ("normal 8s, breaker_trip 15s, normal 5s, node_latency_spike 15s, normal 10s, "
            "mev_wave 40s, normal 30s")
EVENTS_PER_SECOND = 200
DEADLINE = 170.0  # seconds of scenario; with start-up and shutdown the demo stays under 3 minutes
POLL = 0.5
REPORT_DIR = Path(".demo/report")  # git-ignored


@dataclass
class AlertTrack:
    """What one alert (name + labels) did during the demo, in seconds since the scenario started."""

    name: str
    severity: str
    for_: str
    pending: float | None = None
    firing: float | None = None
    resolved: float | None = None
    notified: float | None = None
    receivers: set[str] = field(default_factory=set)
    phase: Phase | None = None
    phase_start: float = 0.0


class Console:
    """Serialised, timestamped lines from the poller and the receiver thread."""

    def __init__(self, out: TextIO, start: float) -> None:
        self.out = out
        self.start = start
        self.lock = threading.Lock()

    def at(self, t: float) -> float:
        return t - self.start

    def say(self, text: str, t: float | None = None) -> None:
        stamp = f"{self.at(time.time() if t is None else t):6.1f}s"
        with self.lock:
            print(f"{stamp}  {text}", file=self.out, flush=True)


def _key(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertstate")


def _phase_at(timeline: tuple[Phase, ...], offset: float) -> tuple[Phase | None, float]:
    begin = 0.0
    for phase in timeline:
        if offset < begin + phase.seconds:
            return phase, begin
        begin += phase.seconds
    return None, begin


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def summary(spec: Spec, tracks: list[AlertTrack], out: TextIO) -> None:
    """The table printed at the end: when each alert went through each state, and its detection delay."""
    head = ("alert", "severity", "phase", "pending", "firing", "notified", "resolved", "delay", "floor")
    rows = []
    for t in sorted(tracks, key=lambda t: (t.pending if t.pending is not None else 1e9)):
        delay = None if t.notified is None else t.notified - t.phase_start
        floor = detection_floor(spec, t.for_, SCRAPE_INTERVAL)
        rows.append((t.name, t.severity, t.phase.name if t.phase else "-", _fmt(t.pending), _fmt(t.firing),
                     _fmt(t.notified), _fmt(t.resolved), _fmt(delay), _fmt(floor)))
    widths = [max(len(str(r[i])) for r in (head, *rows)) for i in range(len(head))]
    print("", file=out)
    for row in (head, *rows):
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)
    print("\ntimes are seconds since the scenario started; delay = first notification - start of the "
          "phase that caused it;\nfloor = for + scrape interval + evaluation interval + group_wait "
          "(windowed signals also need their window to fill)", file=out, flush=True)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM set ``stop`` inside the block; the previous handlers come back after."""
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _alerts(url: str) -> list[dict[str, Any]]:
    try:
        body = requests.get(f"{url}/api/v1/alerts", timeout=2).json()
    except (requests.RequestException, ValueError):
        return []
    alerts: list[dict[str, Any]] = body.get("data", {}).get("alerts", [])
    return alerts


class Watcher:
    """Polls Prometheus and prints phases and alert transitions; records them for the summary."""

    def __init__(self, spec: Spec, timeline: tuple[Phase, ...], console: Console) -> None:
        self.timeline = timeline
        self.console = console
        self.tracks: dict[str, AlertTrack] = {}
        self.for_by_tier: dict[tuple[str, str], str] = {
            (a.name, t.severity): t.for_ for a in spec.alerts for t in a.tiers}
        self.phase_index = -1

    def delivered(self, d: Delivery) -> None:
        track = self.tracks.get(_key(d.labels))
        repeat = track is not None and d.status == "firing" and d.receiver in track.receivers
        # A repeat is the spec's repeat_interval at work: the same alert, at most once per interval.
        self.console.say(f"{'repeat' if repeat else 'notify':<8} {d.receiver:<13} {d.line()}", d.received_at)
        if track is not None and d.status == "firing":
            track.receivers.add(d.receiver)
            if track.notified is None:
                track.notified = self.console.at(d.received_at)

    def open_alerts(self) -> bool:
        return any(t.resolved is None for t in self.tracks.values())

    def poll(self, prometheus: str) -> None:
        now = self.console.at(time.time())
        phase, _ = _phase_at(self.timeline, now)
        if phase is not None and self.timeline.index(phase) != self.phase_index:
            self.phase_index = self.timeline.index(phase)
            self.console.say(f"phase    {phase.name} for {phase.seconds:g}s")
        active = {_key(a["labels"]): a for a in _alerts(prometheus)}
        for key, alert in active.items():
            self.update(key, alert, now)
        for key, track in self.tracks.items():
            if key not in active and track.pending is not None and track.resolved is None:
                track.resolved = now
                self.console.say(f"resolved {track.name} ({track.severity})")

    def update(self, key: str, alert: dict[str, Any], now: float) -> None:
        labels: dict[str, str] = alert["labels"]
        track = self.tracks.get(key)
        if track is None or track.resolved is not None:  # new, or fired again: a new episode
            name, severity = labels.get("alertname", "?"), labels.get("severity", "")
            cause, cause_start = _phase_at(self.timeline, now)
            for_ = self.for_by_tier.get((name, severity), "0s")
            track = self.tracks[key] = AlertTrack(name, severity, for_, phase=cause, phase_start=cause_start)
        if track.pending is None:
            track.pending = now
            self.console.say(f"pending  {track.name} ({track.severity})")
        if alert["state"] == "firing" and track.firing is None:
            track.firing = now
            description = alert.get("annotations", {}).get("description", "")
            self.console.say(f"FIRING   {track.name} ({track.severity}): {description}")


def demo_report(spec: Spec, prometheus: str, start: float, directory: Path) -> Path | None:
    """Write the report of the run (dashboards generated from the demo's spec); its HTML's path.

    A demo that ran but could not draw its report says why and still ends well: the run was the point.
    """
    from generator.generate import render as generate_files
    from generator.report.commands import make_report
    from generator.report.panels import parse_board
    from generator.report.query import Period, ReportError
    from generator.report.render import HTML_NAME, write

    boards = [parse_board(json.loads(text), path) for path, text in sorted(
        generate_files(spec).items(), key=lambda kv: (not kv[0].endswith(f"/{OVERVIEW}.json"), kv[0]))
        if path.startswith(f"{DASHBOARDS_DIR}/") and path.endswith(".json")]
    try:
        period = Period.between(start, time.time())
        _, files = make_report(spec, boards, prometheus, period, parse_duration(SCRAPE_INTERVAL))
        write(directory, files)
    except (ReportError, OSError) as exc:
        print(f"tradewatch demo: no report of the run: {exc}", file=sys.stderr)
        return None
    return (directory / HTML_NAME).resolve()


def run_demo(spec_path: Path, *, scenario_text: str | None = None, keep: bool = False,
             out: TextIO = sys.stdout, deadline: float = DEADLINE, report_dir: Path = REPORT_DIR) -> int:
    """Run the demo; 0 when it played to the end, 130 when stopped by a signal, 1 on a start-up failure."""
    text = scenario_text or SCENARIO
    try:
        spec = scaled(load(spec_path), SPEED)
        timeline = scenario(text)
        find_binary("prometheus", "TRADEWATCH_PROMETHEUS", "prometheus")
        find_binary("prometheus-alertmanager", "TRADEWATCH_ALERTMANAGER", "prometheus-alertmanager")
    except (SpecErrors, ValueError, ToolNotFound) as exc:
        print(f"tradewatch demo: {exc}", file=sys.stderr)
        return 1
    length = sum(p.seconds for p in timeline)
    workdir = Path(tempfile.mkdtemp(prefix="tradewatch-demo-"))
    stop = threading.Event()
    console = Console(out, time.time())
    watcher = Watcher(spec, timeline, console)
    try:
        with stop_on_signals(stop), LocalStack(workdir) as stack, AlertReceiver.serve(
                "127.0.0.1", 0, log_file=workdir / "alerts.log", on_delivery=watcher.delivered) as rx:
            stack.start_alertmanagers(spec, receiver_url=rx.url)
            port = free_port()
            # Prometheus first, so it already scrapes when the simulator's clock starts with the exporter.
            (prometheus,) = stack.start_prometheus(spec, exporter=f"127.0.0.1:{port}",
                                                   scrape_interval=SCRAPE_INTERVAL)
            stack.start([sys.executable, "-m", "generator", "exporter", "--source", "simulate", "--scenario", text,
                         "--rate", str(EVENTS_PER_SECOND), "--listen", f"127.0.0.1:{port}", "--log-level", "warning"],
                        "exporter", f"http://127.0.0.1:{port}/metrics")
            console.start = time.time()  # phases are timed from here
            prom, am = prometheus.url, stack.alertmanagers[0].url
            with console.lock:
                print(f"Prometheus    {prom}/alerts\nAlertmanager  {am}\n"
                      f"Exporter      http://127.0.0.1:{port}/metrics\n"
                      f"Alert log     {workdir / 'alerts.log'}\n"
                      f"Scenario      {text} (time x{SPEED}; Ctrl-C stops)\n", file=out, flush=True)
            while not stop.is_set():
                watcher.poll(prom)
                now = console.at(time.time())
                if now >= deadline or (now >= length and not watcher.open_alerts()):
                    if watcher.open_alerts():
                        console.say("deadline reached with alerts still open")
                    break
                stop.wait(POLL)
            else:
                console.say("stopping (signal received)")
            # The report of the run, while Prometheus still holds it: every dashboard's panels with
            # the alerts that fired on them, for a newcomer who has no Grafana.
            report = None if stop.is_set() else demo_report(spec, prom, console.start, report_dir)
        summary(spec, list(watcher.tracks.values()), out)
        if report is not None:
            print(f"\nReport of the run (every dashboard panel, with the alerts that fired on it):\n  {report}",
                  file=out, flush=True)
        if keep:
            print(f"\nlogs, configs and data kept in {workdir}", file=out)
        return 130 if stop.is_set() else 0
    except ProcessError as exc:
        print(f"tradewatch demo: a server did not start:\n{exc}", file=sys.stderr)
        return 1
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
