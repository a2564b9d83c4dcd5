"""Component health (placeholder replaced below)."""

from __future__ import annotations

from generator.model import Spec


def emit(spec: Spec) -> dict[str, str]:
    return {}
