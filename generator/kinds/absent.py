"""The series is gone: no threshold, the alert fires on absence, per scraped instance.

An instance that is scraped (``up`` exists) but no longer exposes the series alerts with its
``instance`` named; when no target of the job is scraped at all, ``absent()`` alerts for the job.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from generator import conventions, promql
from generator.kinds.base import Kind, PanelQuery, RawSeries, Synthesis, gauge, matched_labels
from generator.model import Absent, Alert, Signal, Tier
from generator.units import Duration

UP = "up"


def _query(signal: Signal) -> Absent:
    assert isinstance(signal.query, Absent)
    return signal.query


class AbsentKind(Kind):
    per_instance = True
    alerts_on_absence = True

    def operation(self, signal: Signal) -> str:
        return ""

    def record_name(self, signal: Signal) -> str | None:
        return None

    def expr(self, signal: Signal) -> str:
        raise ValueError(f"{signal.name}: absence is an alert condition, not a recorded series")

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        return (_query(signal).source.metric, UP)

    def alert_expr(self, signal: Signal, tier: Tier, job: str) -> str:
        source = _query(signal).source
        # A selector the metric contract tied to its system already names that system's job.
        tied = next((v for label, v in source.match if label == conventions.LEVEL_LABEL and isinstance(v, str)), None)
        job = tied or job
        job_matcher = f"{conventions.LEVEL_LABEL}={promql.quote(job)}"
        wanted = promql.selector(source, extra=[] if tied else [job_matcher])
        up = promql.selector(source.__class__(UP), extra=[job_matcher])
        by = self.by(signal)
        return (f"(group by ({by}) ({up}) unless on ({by}) group by ({by}) ({wanted}))"
                f" or (absent({wanted}) unless on () {up})")

    def query_text(self, signal: Signal, job: str) -> str:
        return self.alert_expr(signal, Tier("critical", "critical", "==", None, "", Duration("0s")), job)

    def panel_queries(self, signal: Signal) -> list[PanelQuery]:
        # Draw how many series are there.
        metric = _query(signal).source.metric
        return [PanelQuery(f"count by ({conventions.LEVEL_LABEL}) ({metric}{{matchers}})", "{{job}}")]

    def value_range(self, signal: Signal) -> tuple[float, float]:
        return (1.0, 1.0)

    def labels_template(self, signal: Signal) -> dict[str, str]:
        return {conventions.LEVEL_LABEL: f"{{{{ $labels.{conventions.LEVEL_LABEL} }}}}",
                conventions.INSTANCE_LABEL:
                    f"{{{{ with $labels.{conventions.INSTANCE_LABEL} }}}} (instance={{{{ . }}}}){{{{ end }}}}"}

    def rendered_labels(self, signal: Signal, labels: Mapping[str, str]) -> dict[str, str]:
        instance = labels.get(conventions.INSTANCE_LABEL)
        return {conventions.LEVEL_LABEL: labels.get(conventions.LEVEL_LABEL, ""),
                conventions.INSTANCE_LABEL: f" (instance={instance})" if instance else ""}

    def describe(self, alert: Alert, tier: Tier, value: str, labels: Mapping[str, str], display: str) -> str:
        job = labels.get(conventions.LEVEL_LABEL, "")
        instance = labels.get(conventions.INSTANCE_LABEL, "")
        metric = _query(alert.signal).source.metric
        return f"{alert.signal.title}: no {metric} series from {job}{instance} for {tier.for_}."

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        """The series present from t=0 and, unless ``value`` is infinite, gone (a staleness marker)
        after ``value`` seconds; ``up`` too when ``labels`` name an instance. The synthesis' value
        is 1 (the alert condition holds) from the first evaluation that sees the series gone."""
        source = _query(signal).source
        present = int(value // step) if math.isfinite(value) else None
        series: list[RawSeries] = [RawSeries(source.metric, tuple({**labels, **matched_labels(source)}.items()),
                                             1.0, 0.0, present)]
        if conventions.INSTANCE_LABEL in labels:
            series.append(gauge(UP, {k: labels[k] for k in (conventions.LEVEL_LABEL, conventions.INSTANCE_LABEL)}, 1.0))
        gone = (present + 1) * step if present is not None else math.inf
        return Synthesis(tuple(series), 1.0, first=gone)

    def fires(self, tier: Tier, threshold: float | None, value: float) -> bool:
        return True

    def alert_labels(self, signal: Signal, labels: Mapping[str, str]) -> dict[str, str]:
        """The labels the absence alert carries for a series that had ``labels``."""
        if conventions.INSTANCE_LABEL in labels:
            return {k: labels[k] for k in (conventions.LEVEL_LABEL, conventions.INSTANCE_LABEL)}
        source = _query(signal).source
        return {conventions.LEVEL_LABEL: labels[conventions.LEVEL_LABEL],
                **{k: v for k, v in source.match if not isinstance(v, tuple)}}


KIND = AbsentKind()
