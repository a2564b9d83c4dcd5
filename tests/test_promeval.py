"""The PromQL twin that `expr` signals' tests are built on, held to Prometheus's own answers.

Every expression below is evaluated by :mod:`generator.promeval` at several times, during and after
its windows fill, and promtool (Prometheus's own engine) must find exactly those samples, to the
bit: a twin that drifted from Prometheus by one rounding would fail here before it made a generated
test expect a value Prometheus does not compute.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from generator import promeval
from generator.kinds.base import series_text
from generator.tools import Promtool

STEP = 60.0
SAMPLES = 25


def _counter(slope: float, reset_at: int | None = None, start: int = 0) -> list[float | None]:
    out: list[float | None] = []
    value = 0.0
    for i in range(SAMPLES):
        if i < start:
            out.append(None)
            continue
        if reset_at is not None and i == reset_at:
            value = 0.0
        out.append(value)
        value += slope * STEP
    return out


SERIES = [
    promeval.Series({"__name__": "req_total", "job": "a", "code": "200", "path": "/x"}, _counter(3.5)),
    promeval.Series({"__name__": "req_total", "job": "a", "code": "500", "path": "/x"}, _counter(0.25)),
    promeval.Series({"__name__": "req_total", "job": "b", "code": "200", "path": "/y"}, _counter(1.0, start=4)),
    promeval.Series({"__name__": "req_total", "job": "b", "code": "500", "path": "/y"}, _counter(0.1, reset_at=9)),
    promeval.Series({"__name__": "mem_bytes", "job": "a", "instance": "i1"},
                    [float(1000 + 37 * (i % 5)) for i in range(SAMPLES)]),
    promeval.Series({"__name__": "mem_bytes", "job": "a", "instance": "i2"},
                    [None if 6 <= i < 14 else 2048.0 for i in range(SAMPLES)]),
    promeval.Series({"__name__": "mem_limit_bytes", "job": "a"}, [4096.0] * SAMPLES),
    promeval.Series({"__name__": "started", "job": "a"}, [None] * 8 + [1.7e9] * (SAMPLES - 8)),
]

EXPRESSIONS = [
    "sum by (job) (rate(req_total[5m]))",
    "sum by (job) (rate(req_total{code=\"500\"}[5m])) / sum by (job) (rate(req_total[5m]))",
    "sum without (code, path) (increase(req_total[3m]))",
    "rate(req_total{job=\"b\"}[7m])",
    "irate(req_total[5m])",
    "delta(mem_bytes[4m])",
    "changes(mem_bytes[10m])",
    "resets(req_total[10m])",
    "avg_over_time(mem_bytes[6m])",
    "max_over_time(mem_bytes[6m]) - min_over_time(mem_bytes[6m])",
    "sum_over_time(mem_bytes[3m]) / count_over_time(mem_bytes[3m])",
    "last_over_time(mem_bytes[10m])",
    "avg by (job) (mem_bytes)",
    "count by (job) (mem_bytes) * 2",
    "mem_bytes / on (job) group_left mem_limit_bytes",
    "max by (job) (mem_bytes) / ignoring (instance) max by (job, instance) (mem_limit_bytes)",
    "mem_bytes > 1050",
    "mem_bytes > bool 1050",
    "2000 < mem_bytes",
    "mem_bytes offset 5m",
    "max by (job) ((started * 0 + 1 unless started offset 10m) or changes(started[10m]))",
    "-clamp(mem_bytes, 1040, 1100) + 3",
    "clamp_max(mem_bytes, 1100) % 7",
    "label_replace(mem_bytes, \"host\", \"$1\", \"instance\", \"i(.*)\")",
    "sqrt(mem_limit_bytes) ^ 2 - floor(mem_limit_bytes / 1000) * 1.5",
    "mem_bytes and on (job) mem_limit_bytes > 4000",
    "sum by (job) (rate(req_total[5m])) or vector(0)",
]
TIMES = (0, 2, 4, 5, 7, 9, 12, 16, 24)


def _labels_text(key: promeval.Labels) -> str:
    labels = dict(key)
    name = labels.pop("__name__", "")
    return series_text(name, labels) if labels else (name or "{}")


def _values(samples: list[float | None]) -> str:
    return " ".join("_" if v is None else repr(v) for v in samples)


def test_the_twin_computes_what_prometheus_computes(promtool: Promtool, tmp_path: Path) -> None:
    checks = []
    for expr in EXPRESSIONS:
        tree = promeval.parse(expr)
        for i in TIMES:
            got = promeval.evaluate(tree, SERIES, i * STEP, STEP)
            assert not any(math.isnan(v) for v in got.values()), f"{expr}: NaN cannot be compared"
            samples = [{"labels": _labels_text(key), "value": value} for key, value in sorted(got.items())]
            checks.append({"expr": expr, "eval_time": f"{i}m", "exp_samples": samples})
    assert sum(bool(c["exp_samples"]) for c in checks) > len(checks) * 3 // 4, "too few samples to compare"
    (tmp_path / "empty.rules.yml").write_text("groups: []\n")
    doc = {"rule_files": ["empty.rules.yml"], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [{"series": _labels_text(s.key()), "values": _values(list(s.samples))} for s in SERIES],
        "promql_expr_test": checks,
    }]}
    (tmp_path / "twin.test.yml").write_text(yaml.safe_dump(doc, sort_keys=False))
    result = promtool.test_rules([Path("twin.test.yml")], cwd=tmp_path)
    assert result.ok, result.message


@pytest.mark.parametrize(("expr", "what"), [
    ("histogram_quantile(0.9, rate(x_bucket[5m]))", r"histogram_quantile\(\)"),
    ("time() - x", r"time\(\)"),
    ("max_over_time(x[10m:1m])", "subquery"),
    ("x @ 100", "the @ modifier"),
    ("topk(3, x)", "the topk aggregation"),
    # RE2 reads these otherwise than Python's re would: refused, not guessed.
    ('mem_bytes{instance=~"[[:alnum:]]+"}', "the RE2 syntax"),
    ('label_replace(mem_bytes, "a", "$1", "instance", "([[:alpha:]]+)")', "the RE2 syntax"),
])
def test_what_the_twin_cannot_evaluate_is_named(expr: str, what: str) -> None:
    with pytest.raises(promeval.Unsupported, match=what):
        promeval.evaluate(promeval.parse(expr), SERIES, 600.0, STEP)
