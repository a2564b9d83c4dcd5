"""Rules into a Mimir/Cortex ruler namespace (``--evaluator mimir``), against the fake ruler."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.conftest import TOKEN, run
from tests.deploy.fake_grafana import FakeGrafana
from tests.deploy.fake_mimir import FakeMimir, go_duration

NAMESPACE = "tradewatch-deploy-test"
TENANT = "trading"


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)


def argv(workdir: Path, grafana: FakeGrafana, mimir: FakeMimir, *extra: str) -> list[str]:
    return ["deploy", str(workdir / "tradewatch.yaml"), "--grafana-url", grafana.url, "--evaluator", "mimir",
            "--mimir-url", mimir.url, "--mimir-tenant", TENANT, "--retry-backoff", "0", *extra]


def test_the_fakes_durations_read_like_mimirs() -> None:
    assert [go_duration(d) for d in ("60s", "90s", "0s", "1h30m", "15s")] == ["1m", "1m30s", "0s", "1h30m", "15s"]


def test_groups_land_in_our_namespace_and_a_rerun_sees_them_unchanged(
    grafana: FakeGrafana, mimir: FakeMimir, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    # 60s comes back from the ruler as 1m: the same duration, so not a change.
    spec = workdir / "tradewatch.yaml"
    spec.write_text(spec.read_text().replace("above: 200ms, for: 1m", "above: 200ms, for: 60s"))

    first = run(argv(workdir, grafana, mimir), capsys)

    assert first.code == 0, first.text
    assert f"Mimir ruler {mimir.url}, namespace {NAMESPACE}" in first.out
    assert "+ create       rule group tradewatch.deploy-test.latency  (2 rules)" in first.out
    groups = mimir.tenants[TENANT][NAMESPACE]
    assert set(groups) == {"tradewatch.deploy-test.latency", "tradewatch.deploy-test.trading",
                           "tradewatch.deploy-test.escalation"}
    assert groups["tradewatch.deploy-test.latency"]["rules"][1]["for"] == "1m"
    posts = [c for c in mimir.calls if c.method == "POST"]
    assert len(posts) == 3
    assert {(c.tenant, c.content_type, c.path) for c in posts} == {
        (TENANT, "application/yaml", f"/prometheus/config/v1/rules/{NAMESPACE}")}
    ds = grafana.store.datasources["tradewatch-prometheus"]
    assert ds["url"] == f"{mimir.url}/prometheus"
    assert ds["jsonData"]["prometheusType"] == "Mimir"
    assert ds["jsonData"]["httpHeaderName1"] == "X-Scope-OrgID"
    assert ds["secureJsonData"] == {"httpHeaderValue1": TENANT}

    mimir.calls.clear()
    second = run(argv(workdir, grafana, mimir), capsys)

    assert second.code == 0, second.text
    assert "Nothing to change" in second.out
    assert mimir.writes == []


def test_a_threshold_edit_posts_only_the_changed_group(
    grafana: FakeGrafana, mimir: FakeMimir, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(argv(workdir, grafana, mimir), capsys).code == 0
    spec = workdir / "tradewatch.yaml"
    spec.write_text(spec.read_text().replace("above: 5%", "above: 6%"))
    mimir.calls.clear()

    dry = run(["diff", *argv(workdir, grafana, mimir)[1:]], capsys)

    assert "~ update       rule group tradewatch.deploy-test.trading" in dry.out
    assert "-  expr: job:trade_failure:ratio_rate5m > 0.05" in dry.out
    assert "+  expr: job:trade_failure:ratio_rate5m > 0.06" in dry.out
    assert mimir.writes == []

    applied = run(argv(workdir, grafana, mimir), capsys)

    assert applied.code == 0, applied.text
    assert [(c.method, c.path) for c in mimir.writes] == [("POST", f"/prometheus/config/v1/rules/{NAMESPACE}")]
    rules = mimir.tenants[TENANT][NAMESPACE]["tradewatch.deploy-test.trading"]["rules"]
    assert "job:trade_failure:ratio_rate5m > 0.06" in [r["expr"] for r in rules]


def test_prune_deletes_only_groups_of_our_namespace_and_tenant(
    grafana: FakeGrafana, mimir: FakeMimir, workdir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    stale = {"name": "tradewatch.deploy-test.retired", "rules": [{"record": "x:y:z", "expr": "1"}]}
    mimir.seed(TENANT, NAMESPACE, stale)
    mimir.seed(TENANT, "team-a", {"name": "team-a", "rules": [{"record": "a:b:c", "expr": "1"}]})
    mimir.seed("other-tenant", NAMESPACE, stale)

    kept = run(argv(workdir, grafana, mimir), capsys)

    assert "! would-delete rule group tradewatch.deploy-test.retired" in kept.out
    assert "tradewatch.deploy-test.retired" in mimir.tenants[TENANT][NAMESPACE]

    pruned = run(argv(workdir, grafana, mimir, "--prune"), capsys)

    assert pruned.code == 0, pruned.text
    assert [(c.method, c.path) for c in mimir.writes if c.method == "DELETE"] == [
        ("DELETE", f"/prometheus/config/v1/rules/{NAMESPACE}/tradewatch.deploy-test.retired")]
    assert "tradewatch.deploy-test.retired" not in mimir.tenants[TENANT][NAMESPACE]
    assert "team-a" in mimir.tenants[TENANT]["team-a"]
    assert "tradewatch.deploy-test.retired" in mimir.tenants["other-tenant"][NAMESPACE]


def test_a_ruler_that_refuses_us_changes_nothing_anywhere(
    grafana: FakeGrafana, workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    secured = FakeMimir(token="mimir-secret").start()
    try:
        monkeypatch.setenv("MIMIR_TOKEN", "not-the-mimir-secret")
        result = run(argv(workdir, grafana, secured), capsys)
    finally:
        secured.stop()

    assert result.code == 1
    assert f"Mimir at {secured.url} rejected the credentials (401 unauthorized)" in result.err
    assert "not-the-mimir-secret" not in result.text
    assert "Nothing was changed." in result.err
    assert grafana.writes == []
    assert secured.writes == []
