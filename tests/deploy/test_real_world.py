"""Issue 13: what a real Grafana, Prometheus, Mimir or Cortex does that the first fakes hid.

Each test names the point it proves; each failed before the fix (against the fakes as they now
answer, which is as Grafana's, Prometheus', Mimir's and Cortex's own source says).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from generator import conventions
from generator.generate import render
from generator.model import Spec
from generator.spec import load
from tests.deploy.conftest import TOKEN, Prometheus, process_url, run, start_prometheus
from tests.deploy.fake_grafana import FakeGrafana
from tests.deploy.fake_mimir import FakeMimir
from tests.deploy.test_deploy import FOLDER, LATENCY, TRADING, deploy_args, edit_spec


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)


def no_traceback(text: str) -> None:
    assert "Traceback" not in text, text


# --- 1: --ca-bundle wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE ----------------------------------


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_ca_bundle_flag_is_used_even_when_the_environment_names_another_bundle(
    tmp_path: Path, workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    other = tmp_path / "other.pem"
    for c, k in ((cert, key), (other, tmp_path / "other-key.pem")):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(k),
                        "-out", str(c)], capture_output=True, check=True)
    monkeypatch.setenv(variable, str(other))  # a bundle that does not hold Grafana's CA
    fake = FakeGrafana(tokens={TOKEN: "Admin"}, tls=(cert, key)).start()
    try:
        result = run(["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", fake.url, "--evaluator", "none",
                      "--retry-backoff", "0", "--ca-bundle", str(cert)], capsys)
    finally:
        fake.stop()

    assert result.code == 0, result.text
    assert set(fake.store.dashboards) == {LATENCY, TRADING}


# --- 3: a data source provisioned from files is read-only ---------------------------------------------


def test_a_read_only_data_source_is_left_alone_and_the_rest_lands(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # As docker-compose's provisioning makes it: our uid, editable: false, another URL.
    grafana.seed_datasource({"uid": conventions.PROMETHEUS_DS_UID, "name": conventions.PROMETHEUS_DS_NAME,
                             "type": "prometheus", "access": "proxy", "url": "http://prometheus:9090"},
                            read_only=True)

    first = run(deploy_args(workdir, grafana, None, "--datasource-prometheus-url", "http://other:9090"), capsys)
    second = run(deploy_args(workdir, grafana, None, "--datasource-prometheus-url", "http://other:9090"), capsys)

    assert first.code == 0, first.text
    assert f"data source {conventions.PROMETHEUS_DS_UID} is provisioned from files (read-only)" in first.out
    assert set(grafana.store.dashboards) == {LATENCY, TRADING}
    assert grafana.store.datasources[conventions.PROMETHEUS_DS_UID]["url"] == "http://prometheus:9090"
    assert not [r for r in grafana.writes if r.operation == "updateDataSourceByUID"]
    assert second.code == 0, second.text
    assert "Nothing to change" in second.out


def test_a_read_only_refusal_at_apply_time_is_not_called_a_credentials_problem(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.seed_datasource({"uid": conventions.PROMETHEUS_DS_UID, "name": conventions.PROMETHEUS_DS_NAME,
                             "type": "prometheus", "access": "proxy", "url": "http://old:9090"})
    # Made read-only (a provisioning file appeared) between the plan's read and the write.
    grafana.fail("PUT", "^/api/datasources/uid/", 403, message="Cannot update read-only data source")

    result = run(deploy_args(workdir, grafana, None), capsys)

    assert result.code == 1
    assert "(403 Cannot update read-only data source): it is provisioned from files" in result.out
    assert "credentials" not in result.out
    assert set(grafana.store.dashboards) == {LATENCY, TRADING}


# --- 4: every target is checked before any is changed ------------------------------------------------


def test_a_prometheus_that_refuses_reloads_is_found_before_anything_changes(
    grafana: FakeGrafana, workdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    with start_prometheus(tmp_path, lifecycle=False) as process:
        prometheus = Prometheus(process_url(process), tmp_path / "prometheus-rules", process)
        result = run(deploy_args(workdir, grafana, prometheus), capsys)

    assert result.code == 1
    assert "was started without --web.enable-lifecycle" in result.err
    assert "Nothing was changed." in result.err
    assert "credentials" not in result.err
    assert grafana.writes == []
    assert list(prometheus.rule_dir.iterdir()) == []


def test_rules_prometheus_rejects_leave_grafanas_dashboards_as_they_were(
    grafana: FakeGrafana, prometheus: Prometheus, workdir: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = deploy_args(workdir, grafana, prometheus)
    assert run(argv, capsys).code == 0
    versions = grafana.versions()
    # A threshold edit (dashboards and rules change), and a rule Prometheus cannot parse.
    edit_spec(workdir, "above: 200ms", "above: 250ms")
    real_render = render

    def broken_render(spec: Spec) -> dict[str, str]:
        files = real_render(spec)
        files["alert_rules/latency.rules.yml"] = files["alert_rules/latency.rules.yml"].replace("> 0.25", "> > 0.25")
        return files

    monkeypatch.setattr("generator.generate.render", broken_render)

    result = run(argv, capsys)

    no_traceback(result.text)
    assert result.code == 1, result.text
    assert "FAILED        update rule file" in result.out
    assert "not attempted" in result.out
    assert "the rules did not land" in result.out
    assert grafana.versions() == versions


# --- 5 and 8: what answers a real Grafana (or the proxy in front of it) can give ---------------------


def test_a_login_page_instead_of_json_is_a_clear_error_not_a_traceback(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.fail("GET", "^/api/health$", 200, raw="<!doctype html><title>Sign in</title>")

    result = run(deploy_args(workdir, grafana, None), capsys)

    no_traceback(result.text)
    assert result.code == 1
    assert re.search(r"answered 200 to GET /api/health: the answer is text/html, not JSON \('<!doctype html>"
                     r"<title>Sign in</title>'\)", result.err), result.err
    assert grafana.writes == []


def test_a_redirected_save_is_reported_and_never_turned_into_a_get(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.fail("POST", "^/api/dashboards/db$", 301, times=5, headers={"Location": "/api/dashboards/db"})

    result = run(deploy_args(workdir, grafana, None), capsys)

    assert result.code == 1
    assert "redirected to /api/dashboards/db; deploy does not follow redirects" in result.out
    assert [r.method for r in grafana.requests if r.path == "/api/dashboards/db"] == ["POST", "POST"]
    assert grafana.store.dashboards == {}


def test_a_save_that_landed_but_answered_5xx_is_not_sent_again(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.fail("POST", "^/api/dashboards/db$", 502, after=True, body=f'"uid": "{LATENCY}"')
    argv = deploy_args(workdir, grafana, None, "--retries", "3")

    first = run(argv, capsys)
    second = run(argv, capsys)

    assert first.code == 1
    assert f"FAILED        create dashboard {LATENCY}: Grafana answered 502" in first.out
    assert len([r for r in grafana.requests if r.operation == "postDashboard" and r.status == 502]) == 1
    assert second.code == 0, second.text
    assert f"= unchanged    dashboard {LATENCY}" in second.out
    assert grafana.store.dashboards[LATENCY]["version"] == 1


def test_retry_after_is_honoured_on_429(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    grafana.fail("GET", f"^/api/folders/{FOLDER}$", 429, headers={"Retry-After": "1"})

    result = run(deploy_args(workdir, grafana, None, "--retry-backoff", "0"), capsys)

    assert result.code == 0, result.text
    first, again = [r for r in grafana.requests if r.path == f"/api/folders/{FOLDER}"][:2]
    assert first.status == 429
    assert again.at - first.at >= 0.9


# --- 2 and 8: Grafana-managed rules ---------------------------------------------------------------------


def test_grafana_managed_rules_in_another_org_are_unchanged_on_the_second_run(
    workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    fake = FakeGrafana(tokens={TOKEN: "Admin"}, org_id=4).start()
    try:
        argv = ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", fake.url, "--evaluator", "grafana",
                "--datasource-prometheus-url", "http://prometheus:9090", "--retry-backoff", "0"]
        first = run(argv, capsys)
        writes = len(fake.writes)
        second = run(argv, capsys)
    finally:
        fake.stop()

    assert first.code == 0, first.text
    rules = [r for g in fake.store.rule_groups.values() for r in g["rules"]]
    assert {r["orgID"] for r in rules} == {4}
    # Prometheus' rules stay quiet on a missing or NaN series; so must Grafana's.
    assert {r["noDataState"] for r in rules} == {"OK"}
    assert second.code == 0, second.text
    assert "Nothing to change" in second.out
    assert len(fake.writes) == writes
    assert fake.violations == []


# --- 7 and 8: Cortex's ruler path; the Mimir tenant reaches Grafana ------------------------------------


def test_cortex_rules_land_at_cortexs_own_path(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    cortex = FakeMimir(api="cortex").start()
    try:
        argv = ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", grafana.url, "--evaluator", "mimir",
                "--ruler-api", "cortex", "--mimir-url", cortex.url, "--mimir-tenant", "t", "--retry-backoff", "0"]
        first = run(argv, capsys)
        second = run(argv, capsys)
    finally:
        cortex.stop()

    assert first.code == 0, first.text
    assert "Cortex ruler" in first.out
    assert {c.path for c in cortex.writes} == {"/api/v1/rules/tradewatch-deploy-test"}
    assert {"tradewatch.deploy-test.latency", "tradewatch.deploy-test.trading"} <= \
        set(cortex.tenants["t"]["tradewatch-deploy-test"])
    assert "Nothing to change" in second.out
    assert cortex.violations == []


def test_a_new_mimir_tenant_reaches_the_grafana_data_source(
    grafana: FakeGrafana, mimir: FakeMimir, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    def argv(tenant: str) -> list[str]:
        return ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", grafana.url, "--evaluator", "mimir",
                "--mimir-url", mimir.url, "--mimir-tenant", tenant, "--retry-backoff", "0"]

    assert run(argv("desk-a"), capsys).code == 0
    moved = run(argv("desk-b"), capsys)

    assert moved.code == 0, moved.text
    assert f"~ update       datasource {conventions.PROMETHEUS_DS_UID}" in moved.out
    stored = grafana.store.datasources[conventions.PROMETHEUS_DS_UID]
    assert stored["secureJsonData"]["httpHeaderValue1"] == "desk-b"


# --- 6: the README's quick start, exactly as written ----------------------------------------------------

README = Path(__file__).resolve().parents[2] / "README.md"


def quick_start() -> list[str]:
    """The ``$`` lines of the first console block of the README's ``make deploy`` section."""
    section = README.read_text().split("## `make deploy`", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    return [ln[2:] for ln in block.splitlines() if ln.startswith("$ ")]


def test_the_readmes_deploy_quick_start_works_as_written(
    grafana: FakeGrafana, prometheus: Prometheus, capsys: pytest.CaptureFixture[str],
) -> None:
    root = README.parent
    lines = quick_start()
    assert [ln.split()[:2] for ln in lines if ln.startswith("make")] == [["make", "diff"], ["make", "deploy"]]
    # Only the example addresses and the token change; every command and setting is the README's.
    script = "\n".join(lines).replace("glsa_...", TOKEN).replace("https://grafana.example.com", grafana.url) \
        .replace("http://prometheus:9090", prometheus.url).replace("/etc/prometheus/rules", str(prometheus.rule_dir))
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GRAFANA_TOKEN")}

    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600, check=False)

    no_traceback(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Dry run: nothing was changed." in done.stdout
    assert "Deployed:" in done.stdout
    spec = load(root / "tradewatch.yaml")
    assert {d["folderUid"] for d in grafana.store.dashboards.values()} == {conventions.folder_uid(spec)}
    # Every dashboard the spec generates: its own, and the analysis ones (SLOs, regressions).
    generated = {p for p in render(spec) if p.startswith(f"{conventions.DASHBOARDS_DIR}/")}
    assert len(grafana.store.dashboards) == len(generated)
    assert prometheus.loaded_rules(), "Prometheus loaded none of the deployed rules"
