"""``docker-compose.yml`` without Docker: the Compose Specification's JSON Schema, pinned images at the
versions our judges run, every mounted path present in the repository, and the addresses the generated
files assume (exporter port, Alertmanager alias, the alert log's loopback URL, Grafana's mounts)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from generator.emit import alertmanager, prometheus_config, provisioning
from generator.model import Spec
from generator.tools import Amtool, Promtool, _run
from tests.conftest import ROOT, contract

COMPOSE = ROOT / "docker-compose.yml"
_INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*):-([^}]*)\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def services(compose: dict[str, Any], profile: str | None = None) -> dict[str, dict[str, Any]]:
    """The services ``docker compose [--profile PROFILE] up`` starts."""
    return {name: s for name, s in compose["services"].items()
            if not s.get("profiles") or (profile is not None and profile in s["profiles"])}


def interpolated(text: str) -> str:
    """``${VAR:-default}`` as Compose reads it with VAR unset (a fresh clone)."""
    return _INTERPOLATION.sub(lambda m: m.group(2), text)


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(contract("compose.schema.json")).validate(compose)


def test_every_image_is_pinned_to_a_version(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        assert ":" in image, f"{name}: {image} has no tag"
        assert not image.endswith((":latest", ":main")), f"{name}: {image} is not a version"
        assert re.search(r":v?\d+\.\d+\.\d+", image), f"{name}: {image} is not pinned to x.y.z"


def _version(argv: list[str]) -> str:
    result = _run(argv)
    match = re.search(r"version (\d+\.\d+\.\d+)", result.stdout + result.stderr)
    assert match, result.message
    return match.group(1)


def test_prometheus_and_alertmanager_images_are_the_versions_that_check_our_files(compose: dict[str, Any]) -> None:
    promtool = _version([Promtool.find().path, "--version"])
    amtool = _version([Amtool.find().path, "--version"])
    for name, service in compose["services"].items():
        if service["image"].startswith("prom/prometheus:"):
            assert service["image"] == f"prom/prometheus:v{promtool}", name
        if service["image"].startswith("prom/alertmanager:"):
            assert service["image"] == f"prom/alertmanager:v{amtool}", name


def test_every_mounted_path_exists_in_the_repository(compose: dict[str, Any]) -> None:
    sources: list[str] = []
    for service in compose["services"].values():
        sources += [v.split(":", 1)[0] for v in service.get("volumes", []) if v.startswith(".")]
        build = service.get("build")
        if build:
            sources += [build["context"], str(Path(build["context"]) / build["dockerfile"])]
    sources += [interpolated(s["file"]) for s in compose.get("secrets", {}).values()]
    assert sources
    missing = [s for s in sources if not (ROOT / s).exists()]
    assert missing == [], f"mounted but not in the repository: {missing} (run `make generate`?)"


def test_alertmanager_secret_files_of_the_spec_are_mounted_where_the_config_reads_them(
        compose: dict[str, Any], default_spec: Spec) -> None:
    wanted = {v for r in default_spec.notifications.receivers for k, v in r.settings if k.endswith("_file")}
    assert wanted
    for name, service in compose["services"].items():
        if service["image"].startswith("prom/alertmanager:"):
            assert {s["target"] for s in service["secrets"]} >= wanted, name
            secrets = {s["source"] for s in service["secrets"]}
            assert secrets <= set(compose["secrets"]), name


def test_addresses_the_generated_configs_assume_are_the_compose_ones(
        compose: dict[str, Any], default_spec: Spec) -> None:
    every = compose["services"]
    host, port = prometheus_config.EXPORTER_ADDRESS.split(":")
    assert every[host]["environment"]["TRADEWATCH_LISTEN"] == f":{port}"
    ams = [n for n, s in every.items() if s["image"].startswith("prom/alertmanager:")]
    for name in ams:
        assert prometheus_config.ALERTMANAGER_ALIAS in every[name]["networks"]["default"]["aliases"]
    # The spec's webhook receiver is the alert log in each Alertmanager's network namespace.
    webhook = next(dict(r.settings)["url"] for r in default_spec.notifications.receivers if r.kind == "webhook")
    listen = re.match(r"http://([^/]+)/", webhook)
    assert listen
    logs = {s["network_mode"].removeprefix("service:"): s["command"] for s in every.values()
            if s.get("entrypoint") == ["tradewatch-exporter", "alert-log"]}
    assert set(logs) == set(ams)
    for command in logs.values():
        assert command[command.index("--listen") + 1] == listen.group(1)
    grafana = every["grafana"]
    assert "./provisioning:/etc/grafana/provisioning:ro" in grafana["volumes"]
    assert f"./dashboards:{provisioning.DASHBOARDS_PATH}:ro" in grafana["volumes"]
    for url, port_ in ((provisioning.PROMETHEUS_URL, 9090), (provisioning.ALERTMANAGER_URL, 9093)):
        assert url == f"http://{url.split('//')[1].split(':')[0]}:{port_}"
        assert url.split("//")[1].split(":")[0] in services(compose)
    assert alertmanager.CONFIG_FILE.split("/")[0] in {v.split(":")[0].lstrip("./") for n in ams
                                                     for v in every[n]["volumes"]}


def test_the_ha_profile_runs_two_prometheus_and_two_clustered_alertmanagers(compose: dict[str, Any]) -> None:
    single, ha = services(compose), services(compose, "ha")
    proms = [n for n, s in ha.items() if s["image"].startswith("prom/prometheus:")]
    ams = [n for n, s in ha.items() if s["image"].startswith("prom/alertmanager:")]
    assert (len(proms), len(ams)) == (2, 2)
    assert sum(1 for s in single.values() if s["image"].startswith(("prom/prometheus:", "prom/alertmanager:"))) == 2
    configs = {next(c for c in ha[n]["command"] if c.startswith("--config.file")) for n in proms}
    assert len(configs) == 1  # identical Prometheus servers, as HA pairs are
    for name in ams:
        other = next(n for n in ams if n != name)
        assert f"--cluster.peer={other}:9094" in ha[name]["command"]
        assert "--cluster.listen-address=0.0.0.0:9094" in ha[name]["command"]
    assert all("--web.enable-lifecycle" in ha[n]["command"] for n in proms)


def test_the_tradewatch_image_runs_only_commands_of_the_exporter_install(compose: dict[str, Any]) -> None:
    from exporters.cli import build_parser

    dockerfile = (ROOT / "exporters" / "Dockerfile").read_text()
    entrypoint = json.loads(re.findall(r"^ENTRYPOINT (.+)$", dockerfile, re.M)[-1])
    installs = re.findall(r"pip install ([^&\n]+)", dockerfile)
    offered = set(next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices)
    image = compose["x-tradewatch-image"]["image"]
    commands = [s.get("entrypoint", entrypoint) for s in compose["services"].values() if s.get("image") == image]

    assert [i.strip() for i in installs] == ["."]  # the base dependencies, no `generator` extra
    assert len(commands) >= 3
    for command in commands:
        assert command[0] == "tradewatch-exporter"
        assert command[1] in offered
