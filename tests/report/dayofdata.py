"""A day of synthetic raw metrics for the default spec, with breaches at known minutes, as OpenMetrics
for ``promtool tsdb create-blocks-from openmetrics``; and a real Prometheus serving it, with the
spec's generated recording rules backfilled by ``promtool tsdb create-blocks-from rules``.

Counts are deterministic (no randomness), so every number the report shows has one right answer.
Alerting rules cannot be backfilled (promtool evaluates recording rules only), so the ``ALERTS``
series of the alerts the breaches cause are written alongside, at the minutes the spec's ``for``
makes them fire; the tests check those minutes against the recorded signals too.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from exporters.catalogue import CATALOGUE
from generator.demo.stack import rule_files
from generator.model import Spec
from generator.procs import ManagedProcess, free_port, http_ready
from generator.tools import Promtool

JOB = "tradewatch-exporter"
INSTANCE = "127.0.0.1:9105"
STEP = 60
MINUTES = 1440


@dataclass(frozen=True)
class Episode:
    """An anomaly from minute ``start`` to ``end`` (exclusive) and the alert firing it causes."""

    name: str
    start: int
    end: int
    alert: str
    severity: str
    priority: str
    fires: tuple[int, int]  # minutes [first, last] at which ALERTS{alertstate="firing"} is 1


EPISODES = (
    Episode("trade latency", 180, 230, "TradeExecutionLatencyHigh", "warning", "high", (186, 234)),
    Episode("node latency", 480, 500, "SolanaNodeLatencyHigh", "critical", "critical", (482, 504)),
    Episode("breaker open", 720, 730, "CircuitBreakerOpen", "critical", "critical", (720, 729)),
    Episode("mev wave", 960, 1020, "MevAvoidanceLow", "warning", "high", (980, 1034)),
)


def _during(name: str, minute: int) -> bool:
    return any(e.name == name and e.start <= minute < e.end for e in EPISODES)


# Observations per minute by bucket upper bound (one bucket per entry; cumulated when written).
def trade_latency(minute: int) -> dict[float, int]:
    if _during("trade latency", minute):
        return {0.025: 300, 0.05: 300, 0.1: 200, 0.2: 200}
    # A P99 that moves from minute to minute (below the 100 ms target), so quantiles of it interpolate.
    k = minute * 7919 % 997 // 40
    return {0.025: 700, 0.05: 290 - k, 0.1: 10 + k}


def node_latency(minute: int) -> dict[float, int]:
    if _during("node latency", minute):
        return {0.005: 400, 0.01: 100, 0.5: 100}
    k = minute * 13 % 47
    return {0.005: 800 - k, 0.01: 200, 0.05: k}


def slippage(minute: int) -> dict[float, int]:
    return {0.01: 300, 0.025: 300, 0.05: 200, 0.1: 100, 0.25: 100}


def _cumulate(buckets: tuple[float, ...], counts: dict[float, int], total: list[int]) -> None:
    for i, le in enumerate((*buckets, float("inf"))):
        total[i] += sum(n for bound, n in counts.items() if bound <= le)


def _le(v: float) -> str:
    return "+Inf" if v == float("inf") else repr(v)


def openmetrics(start: int) -> str:
    """OpenMetrics text of the whole day; sample ``i`` is at ``start + i * STEP`` (i = 0..MINUTES)."""
    base = f'instance="{INSTANCE}",job="{JOB}"'
    out: list[str] = []
    times = [start + i * STEP for i in range(MINUTES + 1)]

    def histogram(name: str, per_minute: Callable[[int], dict[float, int]]) -> None:
        buckets = CATALOGUE[name].buckets
        total = [0] * (len(buckets) + 1)
        rows: list[list[str]] = [[] for _ in total]
        counts, sums = [], []
        running_sum = 0.0
        for i, t in enumerate(times):
            per = per_minute(i)
            _cumulate(buckets, per, total)
            running_sum += sum(bound * n * 0.8 for bound, n in per.items())
            for j, le in enumerate((*buckets, float("inf"))):
                rows[j].append(f'{name}_bucket{{{base},le="{_le(le)}"}} {total[j]} {t}')
            counts.append(f"{name}_count{{{base}}} {total[-1]} {t}")
            sums.append(f"{name}_sum{{{base}}} {running_sum:.3f} {t}")
        out.append(f"# TYPE {name} histogram")
        for row in rows:
            out.extend(row)
        out.extend(counts)
        out.extend(sums)

    def counter(family: str, labels: str, per_minute: Callable[[int], int]) -> list[str]:
        total = 0
        lines = []
        for i, t in enumerate(times):
            total += per_minute(i)
            lines.append(f"{family}_total{{{base}{labels}}} {total} {t}")
        return lines

    def gauge(name: str, labels: str, value: Callable[[int], float]) -> list[str]:
        return [f"{name}{{{base}{labels}}} {value(i):g} {t}" for i, t in enumerate(times)]

    histogram("trade_execution_latency_seconds", trade_latency)
    histogram("solana_node_latency_seconds", node_latency)
    histogram("slippage_error_ratio", slippage)
    out.append("# TYPE trades counter")
    out += counter("trades", ',status="success"', lambda i: 990)
    out += counter("trades", ',status="failed"', lambda i: 10)
    out.append("# TYPE mev_attacks_avoided counter")
    out += counter("mev_attacks_avoided", "", lambda i: 5 if _during("mev wave", i) else 19)
    out.append("# TYPE mev_attacks_impacted counter")
    out += counter("mev_attacks_impacted", "", lambda i: 5 if _during("mev wave", i) else 1)
    out.append("# TYPE circuit_breaker_state gauge")
    out += gauge("circuit_breaker_state", "", lambda i: 1 if _during("breaker open", i) else 0)
    out.append("# TYPE active_connections gauge")
    for kind, n in (("postgres", 5), ("questdb", 4), ("redis", 3)):
        out += gauge("active_connections", f',type="{kind}"', lambda i, n=n: n)  # type: ignore[misc]
    out.append("# TYPE memory_usage_bytes gauge")
    out += gauge("memory_usage_bytes", "", lambda i: 3e9 + 1e9 * (i % 120) / 120)
    out.append("# TYPE memory_limit_bytes gauge")
    out += gauge("memory_limit_bytes", "", lambda i: 8e9)
    # A rule of the kind the SLO modules record: the report finds such sections by rule name.
    out.append("# TYPE job:slo_trade_success:attainment_ratio gauge")
    out += gauge("job:slo_trade_success:attainment_ratio", "", lambda i: 0.9995 if i < 1000 else 0.999)
    out.append("# TYPE ALERTS gauge")
    for e in EPISODES:
        labels = (f'alertname="{e.alert}",alertstate="firing",job="{JOB}",priority="{e.priority}",'
                  f'severity="{e.severity}"')
        out += [f"ALERTS{{{labels}}} 1 {start + m * STEP}" for m in range(e.fires[0], e.fires[1] + 1)]
    out.append("# EOF")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Day:
    url: str
    start: int
    end: int
    openmetrics: str = field(repr=False)


def _prometheus(workdir: Path, data: Path, name: str) -> ManagedProcess:
    config = workdir / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\n")
    port = free_port()
    argv = [shutil.which("prometheus") or "prometheus", f"--config.file={config}",
            f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=30d"]
    return ManagedProcess.start(argv, ready=http_ready(f"http://127.0.0.1:{port}/-/ready"),
                                log_path=workdir / f"{name}.log", timeout=60)


def _url(proc: ManagedProcess) -> str:
    listen = next(a for a in proc.argv if a.startswith("--web.listen-address="))
    return "http://" + listen.split("=", 1)[1]


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed:\n{proc.stderr[-2000:]}\n{proc.stdout[-2000:]}")


@contextmanager
def day_of_data(spec: Spec, workdir: Path, end: int) -> Iterator[Day]:
    """A Prometheus on loopback holding the day before ``end`` (a multiple of STEP), rules included."""
    start = end - MINUTES * STEP
    promtool = Promtool.find().path
    data = workdir / "data"
    source = workdir / "day.om.txt"
    raw_text = openmetrics(start)
    source.write_text(raw_text)
    _run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)])
    rules_dir = workdir / "rules"
    rules_dir.mkdir()
    files = []
    for name, text in rule_files(spec).items():
        (rules_dir / name).write_text(text)
        files.append(str(rules_dir / name))
    raw = _prometheus(workdir, data, "prometheus-raw")
    try:
        recorded = workdir / "recorded"
        _run([promtool, "tsdb", "create-blocks-from", "rules", f"--start={start}", f"--end={end}",
              f"--url={_url(raw)}", "--eval-interval=60s", f"--output-dir={recorded}", *files])
    finally:
        raw.stop()
    for block in recorded.iterdir():
        if block.is_dir():
            shutil.move(str(block), data / block.name)
    served = _prometheus(workdir, data, "prometheus")
    try:
        yield Day(_url(served), start, end, raw_text)
    finally:
        served.stop()
