"""The Python twins of Prometheus's template functions, held to what Prometheus renders.

Generated tests expect each alert's description as Prometheus will write it; the twins in
``generator.humanize`` compute that text. Here promtool expands the real template functions for
values across their branches (prefixes, durations, infinities, NaN) and must see the twins' text.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from generator import humanize
from generator.tools import Promtool

VALUES = ["0", "1", "-1", "0.000123456", "0.5", "999.95", "1234.5678", "1e9", "1.5e-12", "59.99", "61", "3600",
          "90061", "-7200", "1048576", "123456789", "+Inf", "-Inf", "NaN"]
TEMPLATES = {
    "humanize": ("{{ $value | humanize }}", humanize.humanize),
    "humanize1024": ("{{ $value | humanize1024 }}", humanize.humanize_1024),
    "humanizeDuration": ("{{ $value | humanizeDuration }}", humanize.humanize_duration),
    "humanizePercentage": ("{{ $value | humanizePercentage }}", humanize.humanize_percentage),
    "value": ("{{ $value }}", humanize.go_float),
}


def test_the_twins_render_what_prometheus_renders(promtool: Promtool, tmp_path: Path) -> None:
    rules, checks = [], []
    for i, text in enumerate(VALUES):
        name = f"Value{i}"
        rules.append({"alert": name, "expr": f"vector({text})",
                      "annotations": {key: template for key, (template, _) in TEMPLATES.items()}})
        value = float(text)
        checks.append({"eval_time": "0m", "alertname": name, "exp_alerts": [{
            "exp_labels": {},
            "exp_annotations": {key: twin(value) for key, (_, twin) in TEMPLATES.items()},
        }]})
    (tmp_path / "values.rules.yml").write_text(yaml.safe_dump({"groups": [{"name": "values", "rules": rules}]}))
    (tmp_path / "values.test.yml").write_text(yaml.safe_dump({
        "rule_files": ["values.rules.yml"], "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": [], "alert_rule_test": checks}],
    }))
    result = promtool.test_rules([Path("values.test.yml")], cwd=tmp_path)
    assert result.ok, result.message
