"""The baseline file: KPIs as measured by ``tradewatch baseline capture``, committed and reviewed.

Reading it is part of loading the spec (its errors name the baseline file, line and key); writing it
and comparing with it query a Prometheus over its HTTP API.

Example::

    >>> measure("http://prometheus:9090", kpi, "7d", job="tradewatch-exporter")
    0.0423
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

from generator.analysis.model import BaselineValue, Kpi
from generator.errors import SpecError
from generator.units import format_quantity, parse_duration
from generator.yamlsource import Located, parse

VERSION = 1
HEADER = ("# Baseline of the KPIs of {spec}, captured by `tradewatch baseline capture`.\n"
          "# Review the numbers and commit this file; `make generate` turns them into regression alerts.\n")


class PrometheusError(Exception):
    """Prometheus could not be asked, or answered with an error."""


def read(path: Path, display: str) -> tuple[dict[str, BaselineValue], list[SpecError]]:
    """KPI values by name; errors name the file, line and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except OSError as exc:
        return {}, [SpecError(display, 0, 0, "(file)", f"cannot read the baseline: {exc.strerror}")]
    located: Located = parse(text, display)
    data = located.data
    errors: list[SpecError] = []
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}, [located.error(("version",), f"a baseline file starts with version: {VERSION}")]
    for key in ("captured_at", "window", "kpis"):
        if key not in data:
            errors.append(located.error((), f"missing required key {key!r}"))
    if errors:
        return {}, errors
    out = {}
    for name, body in (data["kpis"] or {}).items():
        value = body.get("value") if isinstance(body, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            errors.append(located.error(("kpis", name, "value"), "expected a finite number"))
            continue
        out[str(name)] = BaselineValue(float(value), str(data["captured_at"]), str(data["window"]))
    return out, errors


def kpi_query(kpi: Kpi, window: str, job: str) -> str:
    """The KPI's mean over ``window``: the signal's recorded series, averaged over time and series."""
    return f'avg(avg_over_time({kpi.record}{{job="{job}"}}[{window}]))'


def query(url: str, expr: str, timeout: float = 10.0) -> float | None:
    """One instant query; None when the result is empty (no data)."""
    try:
        response = requests.get(f"{url.rstrip('/')}/api/v1/query", params={"query": expr}, timeout=timeout)
    except requests.RequestException as exc:
        raise PrometheusError(f"cannot reach Prometheus at {url}: {exc.__class__.__name__}") from None
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise PrometheusError(f"Prometheus at {url} answered HTTP {response.status_code}, not JSON") from None
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus at {url} refused {expr}: {body.get('error', response.status_code)}")
    result = body["data"]["result"]
    if not result:
        return None
    value = float(result[0]["value"][1])
    return value if math.isfinite(value) else None


def measure(url: str, kpi: Kpi, window: str, job: str) -> float | None:
    return query(url, kpi_query(kpi, window, job))


def render(spec_source: str, values: dict[str, tuple[Kpi, float]], *, captured_at: str, window: str,
           prometheus: str, job: str) -> str:
    data = {
        "version": VERSION, "captured_at": captured_at, "window": window, "prometheus": prometheus,
        "kpis": {name: {"value": value, "shown": format_quantity(value, kpi.signal.dim),
                        "query": kpi_query(kpi, window, job)}
                 for name, (kpi, value) in values.items()},
    }
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000)
    return HEADER.format(spec=spec_source) + body


@dataclass(frozen=True)
class Change:
    kpi: Kpi
    baseline: float
    now: float | None

    @property
    def change(self) -> float | None:
        """Relative change, positive when worse."""
        if self.now is None or self.baseline == 0:
            return None
        delta = (self.now - self.baseline) / abs(self.baseline)
        return delta if self.kpi.worse == "higher" else -delta

    @property
    def regressed(self) -> bool:
        limit = self.kpi.limit()
        if self.now is None or limit is None:
            return False
        return self.now > limit if self.kpi.worse == "higher" else self.now < limit


def table(changes: list[Change]) -> str:
    rows = [("KPI", "baseline", "now", "change", "tolerance", "verdict")]
    for c in changes:
        dim = c.kpi.signal.dim
        rel = c.change
        rows.append((
            c.kpi.name, format_quantity(c.baseline, dim),
            "no data" if c.now is None else format_quantity(c.now, dim),
            "-" if rel is None else f"{rel * 100:+.1f}% {'worse' if rel > 0 else 'better' if rel < 0 else ''}".strip(),
            f"{c.kpi.tolerance * 100:g}%", "REGRESSION" if c.regressed else "no data" if c.now is None else "ok",
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def check_window(window: str) -> str | None:
    try:
        seconds = parse_duration(window)
    except ValueError:
        seconds = 0
    return None if seconds > 0 else f"--window {window!r} is not a Prometheus duration like 7d or 1h"

