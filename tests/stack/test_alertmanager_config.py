"""The generated Alertmanager configuration, judged by amtool 0.25 and by a real Alertmanager.

Routing: every tier of every alert of every spec (and every escalation) reaches exactly the receivers
its priority's route lists, in that order. Inhibition: on a real Alertmanager, the alerts the rules
should silence are reported as suppressed by the right source, and the others are not.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from generator.demo.receiver import AlertReceiver
from generator.demo.stack import LocalStack
from generator.emit import alertmanager
from generator.emit.escalation import escalations
from generator.model import DEFAULT_PRIORITY, PRIORITIES, SEVERITIES, Receiver, Severity, Spec
from generator.spec import load
from generator.tools import Amtool
from generator.units import parse_duration
from tests.conftest import SPECS, spec_id
from tests.stack.conftest import fast, receivers_of, write_tree

AMTOOL = Amtool.find()


def routing_cases() -> list[Any]:
    """(spec path, labels, expected receivers) for every alert tier and escalation of every spec."""
    cases = []
    for path in SPECS:
        spec = load(path)
        for alert in spec.alerts:
            for tier in alert.tiers:
                labels = {"alertname": alert.name, "job": spec.job, "severity": tier.severity,
                          "priority": tier.priority, **dict(alert.labels)}
                cases.append(pytest.param(path, labels, receivers_of(spec, tier.priority),
                                          id=f"{spec_id(path)}-{alert.name}-{tier.severity}"))
        for esc in escalations(spec):
            labels = {"alertname": esc.name, "job": spec.job, "severity": esc.severity, "priority": esc.priority}
            cases.append(pytest.param(path, labels, receivers_of(spec, esc.priority),
                                      id=f"{spec_id(path)}-{esc.name}-{esc.severity}"))
    return cases


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """The generated alertmanager.yml of each spec, written where amtool can read it."""
    out = {}
    for path in SPECS:
        root = tmp_path_factory.mktemp(spec_id(path))
        write_tree(root, alertmanager.emit(load(path)))
        out[path] = root / alertmanager.CONFIG_FILE
    return out


@pytest.mark.parametrize("path", SPECS, ids=spec_id)
def test_the_generated_config_passes_amtool_check_config(path: Path, configs: dict[Path, Path]) -> None:
    result = AMTOOL.check_config(configs[path])
    assert result.ok, result.message


@pytest.mark.parametrize(("path", "labels", "expected"), routing_cases())
def test_each_alert_tier_reaches_the_receivers_of_its_priority(
        path: Path, labels: dict[str, str], expected: list[str], configs: dict[Path, Path]) -> None:
    result = AMTOOL.routes_test(configs[path], labels)
    assert result.ok, result.message
    assert result.stdout.strip().split(",") == expected


@pytest.mark.parametrize("severity", SEVERITIES)
def test_an_alert_with_only_a_severity_is_routed_as_its_default_priority(
        severity: Severity, default_spec: Spec, configs: dict[Path, Path]) -> None:
    config = configs[SPECS[0]]
    result = AMTOOL.routes_test(config, {"alertname": "SomethingElse", "severity": severity})
    assert result.stdout.strip().split(",") == receivers_of(default_spec, DEFAULT_PRIORITY[severity])


def test_an_alert_with_neither_priority_nor_severity_is_reviewed_with_the_least_urgent(
        default_spec: Spec, configs: dict[Path, Path]) -> None:
    result = AMTOOL.routes_test(configs[SPECS[0]], {"alertname": "Watchdog"})
    assert result.stdout.strip().split(",") == receivers_of(default_spec, PRIORITIES[-1])


def test_repeats_group_and_resolved_notices_follow_the_spec(default_spec: Spec) -> None:
    config = alertmanager.build(default_spec)
    notes = default_spec.notifications
    route = config["route"]
    assert (route["group_by"], route["group_wait"], route["group_interval"], route["repeat_interval"]) == (
        list(notes.group_by), notes.group_wait, notes.group_interval, notes.repeat_interval)
    by_priority = {r["matchers"][0]: r["repeat_interval"] for r in route["routes"] if "matchers" in r}
    for r in notes.routes:
        assert by_priority[f'priority="{r.priority}"'] == r.repeat_interval
    for receiver in config["receivers"]:
        (settings,) = next(v for k, v in receiver.items() if k.endswith("_configs"))
        assert settings["send_resolved"] is notes.resolved


def test_the_committed_config_holds_no_secret_only_file_references(rendered_tree: Path) -> None:
    config = yaml.safe_load((rendered_tree / alertmanager.CONFIG_FILE).read_text())
    file_refs = 0
    for receiver in config["receivers"]:
        for key, entries in receiver.items():
            if key.endswith("_configs"):
                for entry in entries:
                    assert not alertmanager.INLINE_SECRETS & entry.keys(), receiver["name"]
                    file_refs += sum(1 for k in entry if k.endswith("_file"))
    assert file_refs >= 3  # pager, chat and email each read theirs from a file


def test_an_inline_secret_in_a_receiver_is_refused() -> None:
    with pytest.raises(ValueError, match="api_url_file"):
        alertmanager.receiver_config(Receiver("chat", "slack", (("api_url", "https://hooks.slack.com/x"),)), True)


# --- inhibition, on a real Alertmanager ---------------------------------------------------------

def _post(url: str, alerts: list[dict[str, str]]) -> None:
    body = [{"labels": labels, "annotations": {"summary": labels["alertname"]}} for labels in alerts]
    requests.post(f"{url}/api/v2/alerts", json=body, timeout=5).raise_for_status()


def _states(url: str) -> dict[tuple[str, str, str], tuple[str, list[str]]]:
    alerts = requests.get(f"{url}/api/v2/alerts", timeout=5).json()
    return {(a["labels"]["alertname"], a["labels"]["severity"], a["labels"]["job"]):
            (a["status"]["state"], a["status"]["inhibitedBy"]) for a in alerts}


@pytest.mark.servers
def test_inhibition_silences_milder_tiers_and_downstream_symptoms_only(
        default_spec: Spec, receiver: AlertReceiver, stack: LocalStack) -> None:
    spec = fast(default_spec)
    (am,) = stack.start_alertmanagers(spec, receiver_url=receiver.url)

    def alert(name: str, severity: Severity, job: str) -> dict[str, str]:
        return {"alertname": name, "severity": severity, "priority": DEFAULT_PRIORITY[severity], "job": job}

    silenced = [
        alert("TradeFailureRateHigh", "critical", "a"),   # a symptom of the open breaker on job a
        alert("TradeExecutionLatencyHigh", "warning", "a"),
        alert("TradeFailureRateHighRecurring", "critical", "a"),
        alert("TradeFailureRateHigh", "warning", "b"),    # the milder tier of a firing critical on job b
    ]
    heard = [
        alert("CircuitBreakerOpen", "critical", "a"),
        alert("SolanaNodeLatencyHigh", "critical", "a"),  # a cause, not a symptom: not silenced
        alert("TradeFailureRateHigh", "critical", "b"),   # no breaker open on job b
        alert("MemoryUsageHigh", "warning", "b"),         # another alert: a critical elsewhere is no reason
    ]
    _post(am.url, silenced + heard)
    deadline = time.monotonic() + 15
    states = _states(am.url)
    while time.monotonic() < deadline and not (
            len(states) == 8 and all(states[_key(a)][0] == "suppressed" for a in silenced)):
        time.sleep(0.1)
        states = _states(am.url)
    assert {_key(a): states[_key(a)][0] for a in silenced + heard} == {
        **{_key(a): "suppressed" for a in silenced}, **{_key(a): "active" for a in heard}}
    # What reaches people: the heard ones, on every receiver of their route; nothing of the silenced.
    expected = {(a["alertname"], a["job"], r) for a in heard for r in receivers_of(spec, a["priority"])}
    assert len(receiver.wait_for(lambda d: True, timeout=15, count=len(expected))) == len(expected)
    late = receiver.wait_for(lambda d: (d.alertname, d.labels["job"], d.receiver) not in expected,
                             timeout=parse_duration(spec.notifications.group_wait) + 1)
    assert late == []
    got = receiver.deliveries()
    assert {(d.alertname, d.labels["job"], d.receiver) for d in got} == expected
    assert all(d.status == "firing" for d in got)


def _key(labels: dict[str, str]) -> tuple[str, str, str]:
    return labels["alertname"], labels["severity"], labels["job"]
