"""``tradewatch deploy`` against the fake Grafana and a real Prometheus, as a new user runs it."""

from __future__ import annotations

import re
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from generator import conventions
from generator.deploy.config import resolve
from generator.deploy.plan import apply
from generator.deploy.run import make_plan
from generator.generate import render
from generator.procs import free_port
from generator.spec import load
from tests.deploy.conftest import TOKEN, Prometheus, run
from tests.deploy.fake_grafana import FakeGrafana

FOLDER = "tw-deploy-test"
LATENCY = "tw-deploy-test-latency"
TRADING = "tw-deploy-test-trading"


def deploy_args(workdir: Path, grafana: FakeGrafana, prometheus: Prometheus | None, *extra: str) -> list[str]:
    argv = ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", grafana.url, "--retry-backoff", "0",
            "--datasource-alertmanager-url", "http://alertmanager:9093"]
    if prometheus is None:
        argv += ["--evaluator", "none", "--datasource-prometheus-url", "http://prometheus:9090"]
    else:
        argv += ["--prometheus-url", prometheus.url, "--prometheus-rule-dir", str(prometheus.rule_dir)]
    return [*argv, *extra]


def changed_lines(text: str) -> list[str]:
    """The -/+ lines of the diffs in a plan, without the ---/+++ headers."""
    diff = [ln[6:].rstrip() for ln in text.splitlines() if ln.startswith("      ")]
    return [ln for ln in diff if ln[:1] in ("-", "+") and not ln.startswith(("---", "+++"))]


def edit_spec(workdir: Path, old: str, new: str) -> None:
    spec = workdir / "tradewatch.yaml"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new))


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    return TOKEN


def test_first_deploy_creates_everything_and_the_second_changes_nothing(
    grafana: FakeGrafana, prometheus: Prometheus, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = deploy_args(workdir, grafana, prometheus)
    first = run(argv, capsys)

    assert first.code == 0, first.text
    for line in (f"+ create       folder {FOLDER}  (Deploy test)",
                 f"+ create       datasource {conventions.PROMETHEUS_DS_UID}",
                 f"+ create       datasource {conventions.ALERTMANAGER_DS_UID}",
                 f"+ create       dashboard {LATENCY}", f"+ create       dashboard {TRADING}",
                 "+ create       rule file tradewatch-deploy-test-latency.rules.yml",
                 "+ create       rule file tradewatch-deploy-test-trading.rules.yml"):
        assert line in first.out
    assert "Deployed:" in first.out
    assert set(grafana.store.folders) == {FOLDER}
    assert {u: d["folderUid"] for u, d in grafana.store.dashboards.items()} == {LATENCY: FOLDER, TRADING: FOLDER}
    prom_ds = grafana.store.datasources[conventions.PROMETHEUS_DS_UID]
    assert prom_ds["url"] == prometheus.url
    assert prom_ds["jsonData"]["manageAlerts"] is True
    assert prom_ds["jsonData"]["alertmanagerUid"] == conventions.ALERTMANAGER_DS_UID
    revision = subprocess.run(["git", "-C", str(workdir), "rev-parse", "--short=12", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    assert grafana.dashboard_messages[LATENCY] == [f"tradewatch deploy of tradewatch.yaml at {revision}"]
    generated = {(g, r) for path, text in render(load(workdir / "tradewatch.yaml")).items()
                 if path.endswith(".rules.yml") for g, r in _rules(text)}
    assert generated <= prometheus.loaded_rules()
    assert ("tradewatch.deploy-test.trading", "TradeFailureRateHigh") in generated

    versions = grafana.versions()
    grafana.requests.clear()
    rule_files = {p.name: p.stat().st_mtime_ns for p in prometheus.rule_dir.iterdir()}
    second = run(argv, capsys)

    assert second.code == 0, second.text
    assert re.search(r"^Plan: 0 to create, 0 to update, \d+ unchanged\.$", second.out, re.MULTILINE)
    assert "Nothing to change: everything is up to date." in second.out
    assert grafana.writes == []
    assert grafana.versions() == versions
    assert {p.name: p.stat().st_mtime_ns for p in prometheus.rule_dir.iterdir()} == rule_files


def _rules(text: str) -> set[tuple[str, str]]:
    import yaml

    return {(g["name"], r.get("record") or r["alert"]) for g in yaml.safe_load(text)["groups"] for r in g["rules"]}


def test_a_threshold_edit_shows_as_a_one_line_diff_in_the_dry_run_and_lands_on_deploy(
    grafana: FakeGrafana, prometheus: Prometheus, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = deploy_args(workdir, grafana, prometheus)
    assert run(argv, capsys).code == 0
    versions = grafana.versions()
    edit_spec(workdir, "above: 200ms", "above: 250ms")
    grafana.requests.clear()

    dry = run(["diff", *argv[1:]], capsys)

    assert dry.code == 0, dry.text
    assert "Plan: 0 to create, 2 to update, " in dry.out
    assert "Dry run: nothing was changed." in dry.out
    assert f"~ update       dashboard {LATENCY}" in dry.out
    assert "~ update       rule file tradewatch-deploy-test-latency.rules.yml" in dry.out
    # Each changed object differs by the threshold and the text that quotes it; nothing else.
    assert changed_lines(dry.out) == [
        '-        "description": "SolanaNodeLatencyHigh (critical) fires above 200ms for 1m.",',
        '+        "description": "SolanaNodeLatencyHigh (critical) fires above 250ms for 1m.",',
        '-                  "value": 0.2', '+                  "value": 0.25',
        "-    expr: job:node_latency:p99_5m > 0.2", "+    expr: job:node_latency:p99_5m > 0.25",
        "-      description: 'Solana node P99 latency on {{ $labels.job }} is {{ $value | humanizeDuration }} "
        "(threshold: 200ms).'",
        "+      description: 'Solana node P99 latency on {{ $labels.job }} is {{ $value | humanizeDuration }} "
        "(threshold: 250ms).'",
    ]
    assert grafana.writes == []
    assert "> 0.2\n" in (prometheus.rule_dir / "tradewatch-deploy-test-latency.rules.yml").read_text()

    applied = run(argv, capsys)

    assert applied.code == 0, applied.text
    assert f"landed        update dashboard {LATENCY}: version 2" in applied.out
    assert grafana.versions() == {**versions, f"dashboard/{LATENCY}": versions[f"dashboard/{LATENCY}"] + 1}
    assert grafana.store.dashboards[LATENCY]["dashboard"]["panels"] == \
        _generated_dashboard(workdir, "latency")["panels"]
    loaded = requests.get(f"{prometheus.url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    queries = {r["name"]: r["query"] for g in loaded for r in g["rules"]}
    assert queries["SolanaNodeLatencyHigh"] == "job:node_latency:p99_5m > 0.25"


def _generated_dashboard(workdir: Path, name: str) -> dict[str, object]:
    import json

    data: dict[str, object] = json.loads(render(load(workdir / "tradewatch.yaml"))[f"dashboards/{name}.json"])
    return data


def test_a_wrong_token_gives_one_clear_error_and_changes_nothing(
    grafana: FakeGrafana, prometheus: Prometheus, workdir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "glsa_wrong-token-that-must-never-be-printed"
    monkeypatch.setenv("GRAFANA_TOKEN", secret)

    result = run(deploy_args(workdir, grafana, prometheus), capsys)

    assert result.code == 1
    assert result.out == ""
    assert result.err == (f"tradewatch deploy: Grafana at {grafana.url} rejected the credentials (401 Unauthorized) "
                          f"on GET /api/folders/{FOLDER}\nNothing was changed.\n")
    assert secret not in result.text
    assert grafana.writes == []
    assert list(prometheus.rule_dir.iterdir()) == []


def test_a_viewer_token_is_refused_before_anything_is_written(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", "viewer-token")
    grafana.seed_folder(FOLDER, "Deploy test")

    result = run(deploy_args(workdir, grafana, None), capsys)

    assert result.code == 1
    assert "cannot edit folder tw-deploy-test" in result.err
    assert "Nothing was changed." in result.err
    assert grafana.writes == []


def test_basic_auth_from_the_environment_works(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GRAFANA_USER", "admin")
    monkeypatch.setenv("GRAFANA_PASSWORD", "admin-password")

    result = run(deploy_args(workdir, grafana, None), capsys)

    assert result.code == 0, result.text
    assert "admin-password" not in result.text
    assert set(grafana.store.dashboards) == {LATENCY, TRADING}


def test_an_unreachable_grafana_is_one_clear_error(
    workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    argv = ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", url, "--evaluator", "none",
            "--retries", "2", "--retry-backoff", "0"]

    result = run(argv, capsys)

    assert result.code == 1
    assert result.err == (f"tradewatch deploy: cannot reach Grafana at {url}: connection refused "
                          "(after 3 attempts)\nNothing was changed.\n")


def test_a_failure_midway_reports_what_landed_and_a_rerun_finishes_the_job(
    grafana: FakeGrafana, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.fail("POST", r"^/api/dashboards/db$", 500, times=100, message="database is locked",
                 body=f'"uid": "{TRADING}"')
    argv = deploy_args(workdir, grafana, None, "--retries", "1")

    failed = run(argv, capsys)

    assert failed.code == 1
    assert f"landed        create folder {FOLDER}: created" in failed.out
    assert f"landed        create dashboard {LATENCY}: version 1" in failed.out
    assert (f"FAILED        create dashboard {TRADING}: Grafana answered 500 to POST /api/dashboards/db: "
            "database is locked\n") in failed.out
    # A POST is never sent twice: a save that failed with a 5xx may have landed.
    assert [r.status for r in grafana.requests if r.operation == "postDashboard"].count(500) == 1
    assert "Deploy incomplete: 4 of 5 change(s) landed." in failed.out
    assert set(grafana.store.dashboards) == {LATENCY}

    grafana.heal()
    rerun = run(argv, capsys)

    assert rerun.code == 0, rerun.text
    assert "Plan: 1 to create, 0 to update, 4 unchanged." in rerun.out
    assert f"landed        create dashboard {TRADING}: version 1" in rerun.out
    assert set(grafana.store.dashboards) == {LATENCY, TRADING}


def test_a_busy_grafana_is_retried_with_backoff(
    grafana: FakeGrafana, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.fail("GET", rf"^/api/dashboards/uid/{TRADING}$", 503, times=2, message="too busy")

    result = run(deploy_args(workdir, grafana, None, "--retries", "2"), capsys)

    assert result.code == 0, result.text
    reads = [r for r in grafana.requests if r.operation == "getDashboardByUID" and r.path.endswith(TRADING)]
    assert [r.status for r in reads] == [503, 503, 404]
    assert set(grafana.store.dashboards) == {LATENCY, TRADING}


def test_grafanas_own_message_is_shown_for_a_rejected_dashboard(
    grafana: FakeGrafana, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.fail("POST", r"^/api/dashboards/db$", 422, times=1, body=f'"uid": "{LATENCY}"',
                 message="Dashboard validation failed: panel 3 has an invalid gridPos")

    result = run(deploy_args(workdir, grafana, None), capsys)

    assert result.code == 1
    assert (f"FAILED        create dashboard {LATENCY}: Grafana answered 422 to POST /api/dashboards/db: "
            "Dashboard validation failed: panel 3 has an invalid gridPos") in result.out


def test_a_dashboard_saved_in_the_ui_after_the_plan_is_not_clobbered(
    grafana: FakeGrafana, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = deploy_args(workdir, grafana, None)
    assert run(argv, capsys).code == 0
    edit_spec(workdir, "above: 200ms", "above: 250ms")
    spec = load(workdir / "tradewatch.yaml")
    cfg = resolve({"grafana_url": grafana.url, "evaluator": "none", "retries": "0",
                   "datasource_prometheus_url": "http://prometheus:9090",
                   "datasource_alertmanager_url": "http://alertmanager:9093"}, {"GRAFANA_TOKEN": token}, None)
    with ExitStack() as stack:
        plan = make_plan(spec, render(spec), cfg, prune=False, root=workdir, stack=stack)
        grafana.edit_dashboard(LATENCY, description="edited by a person")  # between plan and apply
        report = apply(plan.steps)

    assert not report.ok
    assert (f"FAILED        update dashboard {LATENCY}: Grafana answered 412 to POST /api/dashboards/db: "
            "The dashboard has been changed by someone else") in report.render()
    assert grafana.store.dashboards[LATENCY]["dashboard"]["description"] == "edited by a person"

    rerun = run(argv, capsys)

    assert rerun.code == 0, rerun.text
    assert '-    "description": "edited by a person",' in changed_lines(rerun.out)
    assert grafana.store.dashboards[LATENCY]["dashboard"]["description"] != "edited by a person"


def test_a_dashboard_with_our_uid_that_is_not_ours_is_never_overwritten(
    grafana: FakeGrafana, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.seed_dashboard({"uid": LATENCY, "title": "Someone's latency board", "tags": ["team-a"]})

    result = run(deploy_args(workdir, grafana, None), capsys)

    assert result.code == 1
    assert f'dashboard {LATENCY} ("Someone\'s latency board" in folder "General")' in result.err
    assert "Nothing was changed." in result.err
    assert grafana.writes == []


def test_prune_deletes_only_our_stale_objects(
    grafana: FakeGrafana, prometheus: Prometheus, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = deploy_args(workdir, grafana, prometheus)
    assert run(argv, capsys).code == 0
    ours = {"uid": "tw-deploy-test-old", "title": "Old area", "tags": ["tradewatch", "tradewatch-deploy-test"]}
    grafana.seed_dashboard(ours, FOLDER)
    grafana.seed_dashboard({"uid": "hand-made", "title": "Hand made", "tags": ["team-a"]}, FOLDER)
    grafana.seed_folder("tw-other-spec", "Other spec")
    grafana.seed_dashboard({"uid": "tw-other-spec-x", "title": "X", "tags": ["tradewatch", "tradewatch-other-spec"]},
                           "tw-other-spec")
    stale_rules = prometheus.rule_dir / "tradewatch-deploy-test-old.rules.yml"
    stale_rules.write_text("groups: []\n")
    foreign_rules = prometheus.rule_dir / "node.rules.yml"
    foreign_rules.write_text("groups: []\n")

    kept = run(argv, capsys)

    assert kept.code == 0, kept.text
    assert "! would-delete dashboard tw-deploy-test-old  (Old area; no longer generated)" in kept.out
    assert "! would-delete rule file tradewatch-deploy-test-old.rules.yml" in kept.out
    assert "2 stale (kept; --prune deletes them)" in kept.out
    assert "tw-deploy-test-old" in grafana.store.dashboards
    assert stale_rules.exists()

    pruned = run([*argv, "--prune"], capsys)

    assert pruned.code == 0, pruned.text
    assert "- delete       dashboard tw-deploy-test-old" in pruned.out
    assert "- delete       rule file tradewatch-deploy-test-old.rules.yml" in pruned.out
    assert set(grafana.store.dashboards) == {LATENCY, TRADING, "hand-made", "tw-other-spec-x"}
    assert not stale_rules.exists()
    assert foreign_rules.exists()


@pytest.mark.usefixtures("token")
def test_prometheus_rejecting_the_rules_fails_loudly_and_leaves_the_previous_rules(
    grafana: FakeGrafana, prometheus: Prometheus, workdir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = deploy_args(workdir, grafana, prometheus)
    assert run(argv, capsys).code == 0
    before = {p.name: p.read_text() for p in prometheus.rule_dir.iterdir()}
    loaded = prometheus.loaded_rules()
    real_render = render

    def broken_render(spec: object) -> dict[str, str]:
        files = real_render(spec)  # type: ignore[arg-type]
        path = "alert_rules/latency.rules.yml"
        files[path] = files[path].replace("> 0.2", "> > 0.2")  # a PromQL syntax error Prometheus refuses
        return files

    monkeypatch.setattr("generator.generate.render", broken_render)

    result = run(argv, capsys)

    assert result.code == 1
    assert "FAILED        update rule file tradewatch-deploy-test-latency.rules.yml: Prometheus rejected the " \
           "rule files: " in result.out
    assert re.search(r"promtool check rules says:\nFAILED:\n.*\"SolanaNodeLatencyHigh\": could not parse expression: "
                     r".*parse error: unexpected", result.out), result.out
    assert "Nothing changed: the previous rule files are back in" in result.out
    assert {p.name: p.read_text() for p in prometheus.rule_dir.iterdir()} == before
    assert prometheus.loaded_rules() == loaded


def test_rules_on_disk_but_not_loaded_are_reloaded_on_the_next_run(
    grafana: FakeGrafana, prometheus: Prometheus, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = deploy_args(workdir, grafana, prometheus)
    assert run(argv, capsys).code == 0
    # As if an earlier run was killed after copying the files and before the reload.
    moved = {p.name: p.read_text() for p in prometheus.rule_dir.iterdir()}
    for p in prometheus.rule_dir.iterdir():
        p.unlink()
    requests.post(f"{prometheus.url}/-/reload", timeout=5).raise_for_status()
    for name, text in moved.items():
        (prometheus.rule_dir / name).write_text(text)
    assert prometheus.loaded_rules() == set()

    result = run(argv, capsys)

    assert result.code == 0, result.text
    assert "~ update       reload" in result.out
    assert prometheus.loaded_rules() != set()


def test_tls_is_verified_and_a_ca_bundle_makes_a_private_ca_work(
    tmp_path: Path, workdir: Path, token: str, capsys: pytest.CaptureFixture[str],
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                           "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                           "-out", str(cert)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.fail(f"openssl could not make a test certificate: {made.stderr.decode()}")
    fake = FakeGrafana(tokens={TOKEN: "Admin"}, tls=(cert, key)).start()
    try:
        argv = ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", fake.url, "--evaluator", "none",
                "--retry-backoff", "0"]
        refused = run(argv, capsys)
        trusted = run([*argv, "--ca-bundle", str(cert)], capsys)
    finally:
        fake.stop()

    assert refused.code == 1
    assert "certificate verify failed" in refused.err
    assert "--ca-bundle" in refused.err
    assert trusted.code == 0, trusted.text
    assert set(fake.store.dashboards) == {LATENCY, TRADING}
    assert fake.violations == []
