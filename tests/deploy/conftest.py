"""Fixtures for the deploy tests: the fake Grafana, the fake Mimir ruler, a real Prometheus, and a
``tradewatch`` runner that captures what a user would see.

Every server listens on 127.0.0.1 on a port the OS picked, and is stopped when its test ends; the
fakes fail the test if deploy sent anything off the contract.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from generator.deploy import commands
from generator.deploy.config import OPTIONS, SECRET_ENV
from generator.procs import ManagedProcess, free_port, http_ready
from tests.deploy.fake_grafana import FakeGrafana
from tests.deploy.fake_mimir import FakeMimir

DATA = Path(__file__).parent / "data"
TOKEN = "glsa_test-admin-token-0123456789"
ENV_VARS = (*(o.env for o in OPTIONS if o.env), *SECRET_ENV, "GRAFANA_USER", "MIMIR_USER", "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE")


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own GRAFANA_TOKEN and friends must not leak into a test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    fake = FakeGrafana(tokens={TOKEN: "Admin", "viewer-token": "Viewer"}).start()
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.violations == [], "deploy broke Grafana's API contract:\n" + "\n".join(fake.violations)


@pytest.fixture
def mimir() -> Iterator[FakeMimir]:
    fake = FakeMimir().start()
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.violations == [], "deploy broke the Mimir ruler API:\n" + "\n".join(fake.violations)


@dataclass
class Prometheus:
    url: str
    rule_dir: Path
    process: ManagedProcess

    def loaded_rules(self) -> set[tuple[str, str]]:
        data = requests.get(f"{self.url}/api/v1/rules", timeout=5).json()
        return {(g["name"], r["name"]) for g in data["data"]["groups"] for r in g["rules"]}


def start_prometheus(tmp_path: Path, *, lifecycle: bool = True) -> ManagedProcess:
    """A real Prometheus whose rule_files glob reads ``tmp_path/prometheus-rules``; started, not yet stopped."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed: run scripts/setup.sh (Debian package 'prometheus')")
    rule_dir = tmp_path / "prometheus-rules"
    rule_dir.mkdir(exist_ok=True)
    config = tmp_path / "prometheus.yml"
    config.write_text(f"global:\n  evaluation_interval: 15s\nrule_files:\n  - {rule_dir}/*.yml\n")
    port = free_port()
    argv = [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"]
    if lifecycle:
        argv.append("--web.enable-lifecycle")
    return ManagedProcess.start(argv, ready=http_ready(f"http://127.0.0.1:{port}/-/ready"),
                                log_path=tmp_path / "prometheus.log")


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Prometheus]:
    process = start_prometheus(tmp_path)
    with process:
        yield Prometheus(process_url(process), tmp_path / "prometheus-rules", process)


def process_url(process: ManagedProcess) -> str:
    listen = next(a for a in process.argv if a.startswith("--web.listen-address="))
    return "http://" + listen.split("=", 1)[1]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A repository of the user's: the test spec, in a git checkout with one commit."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(DATA / "tradewatch.yaml", root / "tradewatch.yaml")
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "tradewatch.yaml"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "spec"], check=True)
    return root


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Result:
    """``tradewatch <argv>`` as a user types it; what it printed, and its exit code."""
    parser = argparse.ArgumentParser(prog="tradewatch")
    commands.register(parser.add_subparsers(dest="command", required=True))
    capsys.readouterr()
    args = parser.parse_args(argv)
    code = args.func(args)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
