"""The real entry point: ``tradewatch diff`` and ``deploy`` are registered and run end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.deploy.conftest import TOKEN
from tests.deploy.fake_grafana import FakeGrafana


def test_tradewatch_diff_runs_from_the_command_line_and_writes_nothing(grafana: FakeGrafana, workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRAFANA_", "MIMIR_", "TRADEWATCH_"))}
    env.update(GRAFANA_TOKEN=TOKEN, GRAFANA_URL=grafana.url)

    done = subprocess.run([sys.executable, "-m", "generator", "diff", "--evaluator", "none"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert "+ create       folder tw-deploy-test  (Deploy test)" in done.stdout
    assert done.stdout.endswith("Dry run: nothing was changed.\n")
    assert TOKEN not in done.stdout + done.stderr
    assert grafana.writes == []


def test_tradewatch_version_prints_the_installed_version() -> None:
    from importlib import metadata

    done = subprocess.run([sys.executable, "-m", "generator", "--version"], capture_output=True, text=True,
                          timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"tradewatch {metadata.version('tradewatch')}\n"
