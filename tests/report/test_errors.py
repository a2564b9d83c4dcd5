"""A report that cannot be made says why, exits non-zero, and writes nothing (earlier reports stay)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from generator.cli import build_parser, main
from generator.procs import free_port
from tests.conftest import ROOT
from tests.report.dayofdata import _prometheus, _url

pytestmark = pytest.mark.servers


def test_unreachable_prometheus_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    url = f"http://127.0.0.1:{free_port()}"
    code = main(["report", str(ROOT / "tradewatch.yaml"), "--prometheus", url, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"Prometheus at {url} is unreachable" in err
    assert "no report was written" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_prometheus_without_data_for_the_period_keeps_the_old_report(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("yesterday's report")
    prometheus = _prometheus(tmp_path, tmp_path / "data", "empty")
    try:
        code = main(["report", str(ROOT / "tradewatch.yaml"), "--prometheus", _url(prometheus),
                     "--out", str(out)])
    finally:
        prometheus.stop()
    err = capsys.readouterr().err
    assert code == 1
    assert "holds no data of" in err
    assert "job 'tradewatch-exporter'" in err
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]
    assert (out / "report.html").read_text() == "yesterday's report"


def test_missing_dashboards_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["report", str(ROOT / "tradewatch.yaml"), "--dashboards", str(tmp_path),
                 "--out", str(tmp_path / "out")])
    assert code == 1
    assert f"{tmp_path}: no dashboard JSON files" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_period_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "--period", "yesterday"])
    assert exc.value.code == 2
    assert "--period" in capsys.readouterr().err


def test_the_compose_report_service_runs_a_command_the_cli_accepts() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    script = " ".join(compose["services"]["report"]["command"])
    call = script[script.index("tradewatch report "):].split(";", 1)[0].replace("$$(date -u +%F)", "2026-01-01")
    args = build_parser().parse_args(shlex.split(call)[1:])
    assert args.func.__name__ == "cmd_report"
    assert args.prometheus == "http://prometheus:9090"
    assert args.alertmanager == "http://alertmanager:9093"
    mounts = {v.split(":")[1] for v in compose["services"]["report"]["volumes"]}
    assert {str(args.spec), str(args.dashboards)} <= mounts


def test_a_dashboard_the_report_cannot_read_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = tmp_path / "latency.json"
    board.write_text('{"panels": [{"id": "one", "type": "timeseries"}]}')
    code = main(["report", str(ROOT / "tradewatch.yaml"), "--dashboards", str(tmp_path),
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{board}: not a dashboard the report can read" in err
    assert "Traceback" not in err
