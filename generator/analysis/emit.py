"""Every analysis output: the SLO, health and regression rule files, their promtool tests and dashboards."""

from __future__ import annotations

from generator.analysis import health, regression, slo
from generator.model import Spec


def emit(spec: Spec) -> dict[str, str]:
    return {**slo.emit(spec), **health.emit(spec), **regression.emit(spec)}
