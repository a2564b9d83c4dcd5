"""User text inside Prometheus templates, printed as written instead of run.

Prometheus expands every alert annotation and label as a Go ``text/template``: a summary that says
``{{ $value }}`` or ``use {{`` would be executed, or refused by ``promtool check rules``. The only
sequences the template language reads are ``{{`` and ``}}``, so each becomes an action that prints it.

Example::

    >>> literal("keep {{ this }}")
    'keep {{ "{{" }} this {{ "}}" }}'
"""

from __future__ import annotations

import dataclasses
import re

from generator.model import Alert

_DELIMITER = re.compile(r"\{\{|\}\}")


def literal(text: str) -> str:
    """``text`` as a Go template that renders to exactly ``text``."""
    return _DELIMITER.sub(lambda m: '{{ "' + m.group(0) + '" }}', text)


def literal_alert(alert: Alert, *, title: bool = False) -> Alert:
    """``alert`` with every text the user wrote made literal, for the rule files (not the tests, which
    compare with what Prometheus renders: the text as written).

    The signal's title too with ``title=True``; that copy of the signal is no longer the spec's own,
    so use it for texts only, not to look up the signal's panel.
    """
    signal = dataclasses.replace(alert.signal, title=literal(alert.signal.title)) if title else alert.signal
    return dataclasses.replace(
        alert, signal=signal, summary=literal(alert.summary), impact=literal(alert.impact),
        action=literal(alert.action), runbook_url=literal(alert.runbook_url),
        labels=tuple((k, literal(v)) for k, v in alert.labels),
    )
