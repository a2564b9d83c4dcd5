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

# The emitters of rule files come first: promtool can judge those while the rest renders.
EMITTERS: tuple[Emitter, ...] = (
    rules.emit,
    escalation.emit,
    dashboards.emit,
    promtool_tests.emit,
    runbooks.emit,
    alertmanager.emit,
    prometheus_config.emit,
    provisioning.emit,
    analysis.emit,
)


RULE_EMITTERS = 2


def render(spec: Spec, rules_ready: Callable[[dict[str, str]], None] | None = None) -> dict[str, str]:
    """Every file the spec generates, keyed by path relative to the output directory.

    ``rules_ready`` is called with the files rendered once the rule files' emitters have run.
    """
    files: dict[str, str] = {}
    for i, emit in enumerate(EMITTERS):
        if i == RULE_EMITTERS and rules_ready is not None:
            rules_ready(dict(files))
        for path, text in emit(spec).items():
            if path in files:
                raise ValueError(f"two emitters both write {path}")
            files[path] = text
    return dict(sorted(files.items()))
