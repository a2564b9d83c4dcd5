"""PromQL text shared by every kind: literals, selectors, numbers, and the threshold texts alerts show.

What differs between kinds (the expressions themselves) lives in ``generator.kinds``.

Example::

    >>> selector(Selector("trades_total", (("status", "failed"),)))
    'trades_total{status="failed"}'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from generator.model import Override, Selector, Tier

_REGEX_SPECIAL = re.compile(r"([\\.^$|?*+()\[\]{}])")


def quote(value: str) -> str:
    """A PromQL string literal (JSON's escaping is PromQL's for the characters that matter)."""
    return json.dumps(value)


def selector(sel: Selector, extra: Sequence[str] = (), suffix: str = "") -> str:
    matchers = list(extra)
    for label, value in sel.match:
        if isinstance(value, tuple):
            alternatives = "|".join(escape_regex(v) for v in value)
            matchers.append(f"{label}=~{quote(alternatives)}")
        else:
            matchers.append(f"{label}={quote(value)}")
    inner = ", ".join(matchers)
    return f"{sel.metric}{suffix}{{{inner}}}" if inner else f"{sel.metric}{suffix}"


def number(value: float) -> str:
    """Shortest text that reads back as the same float: 0.2, 1, 1e-05."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def escape_regex(value: str) -> str:
    """A label value as an RE2 literal, for ``=~`` and ``!~`` alternatives."""
    return _REGEX_SPECIAL.sub(r"\\\1", value)


def override_exclusion(overrides: Sequence[Override]) -> str:
    """Matchers for every series that no per-label threshold names: ``endpoint!~"a|b"``."""
    rest = []
    for label in sorted({o.label for o in overrides}):
        values = "|".join(escape_regex(o.value) for o in overrides if o.label == label)
        rest.append(f"{label}!~{quote(values)}")
    return ", ".join(rest)


def threshold_template(tier: Tier) -> str:
    """The tier's threshold as text; with per-label thresholds, the one for the alerting series."""
    text = tier.display
    for o in reversed(tier.overrides):
        text = f'{{{{ if eq $labels.{o.label} {quote(o.value)} }}}}{o.display}{{{{ else }}}}{text}{{{{ end }}}}'
    return text
