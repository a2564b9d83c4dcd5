"""Names deploy makes up for the objects it owns in Grafana, Prometheus and Mimir.

Shared with the file-provisioning emitter, so a Grafana populated from files and one populated
through the API hold the same uids and a later ``tradewatch deploy`` adopts what compose made.

Example::

    >>> folder_uid(spec)
    'tw-solana-trader'
"""

from __future__ import annotations

import hashlib

from generator.conventions import UID_MAX, slug
from generator.model import Spec

# One Prometheus and one Alertmanager data source per Grafana, shared by every spec deployed there.
PROMETHEUS_DS_UID = "tradewatch-prometheus"
PROMETHEUS_DS_NAME = "tradewatch Prometheus"
ALERTMANAGER_DS_UID = "tradewatch-alertmanager"
ALERTMANAGER_DS_NAME = "tradewatch Alertmanager"
# The tag every generated dashboard carries (conventions.dashboard_tags); deploy owns only these.
OWNED_TAG = "tradewatch"


def _bounded(uid: str) -> str:
    if len(uid) <= UID_MAX:
        return uid
    digest = hashlib.sha256(uid.encode()).hexdigest()[:8]
    return f"{uid[: UID_MAX - 9]}-{digest}"


def folder_uid(spec: Spec) -> str:
    """The Grafana folder this spec's dashboards and alert rules live in (one per spec)."""
    return _bounded(f"tw-{slug(spec.name)}")


def spec_tag(spec: Spec) -> str:
    return f"tradewatch-{slug(spec.name)}"


def rule_uid(spec: Spec, alert: str, severity: str, override: str = "") -> str:
    """A Grafana alert rule uid, stable across runs (``^[a-zA-Z0-9-_]+$``, at most 40 characters)."""
    parts = [f"tw-{slug(spec.name)}", slug(alert), severity]
    if override:
        parts.append(slug(override))
    return _bounded("-".join(parts))


def mimir_namespace(spec: Spec) -> str:
    """The Mimir/Cortex ruler namespace deploy owns for this spec."""
    return f"tradewatch-{slug(spec.name)}"


def rule_file_prefix(spec: Spec) -> str:
    """Rule files deploy writes into a Prometheus rule directory start with this; others are foreign."""
    return f"tradewatch-{slug(spec.name)}-"
