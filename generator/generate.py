"""model -> every generated file, in memory; ``write`` puts them on disk only when all succeeded.

An emitter is a pure function ``emit(spec) -> dict[relative path, text]``. ``EMITTERS`` lists them;
a new output is one more line here.
"""

from __future__ import annotations

from collections.abc import Callable

from generator.analysis import emit as analysis
from generator.emit import (
    alertmanager,
    dashboards,
    escalation,
    prometheus_config,
    promtool_tests,
    provisioning,
    rules,
    runbooks,
)
from generator.model import Spec

Emitter = Callable[[Spec], dict[str, str]]

EMITTERS: tuple[Emitter, ...] = (
    rules.emit,
    dashboards.emit,
    promtool_tests.emit,
    runbooks.emit,
    escalation.emit,
    alertmanager.emit,
    prometheus_config.emit,
    provisioning.emit,
    analysis.emit,
)


def render(spec: Spec) -> dict[str, str]:
    """Every file the spec generates, keyed by path relative to the output directory."""
    files: dict[str, str] = {}
    for emit in EMITTERS:
        for path, text in emit(spec).items():
            if path in files:
                raise ValueError(f"two emitters both write {path}")
            files[path] = text
    return dict(sorted(files.items()))
