"""The fakes themselves: they must catch what real Grafana and Mimir would refuse, or the deploy
tests prove nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.deploy.contract import GrafanaContract, definition_errors
from tests.deploy.fake_grafana import FakeGrafana
from tests.deploy.fake_mimir import FakeMimir

AUTH = {"Authorization": "Bearer t"}


@pytest.fixture
def fake() -> Iterator[FakeGrafana]:
    grafana = FakeGrafana(tokens={"t": "Admin"}).start()
    try:
        yield grafana
    finally:
        grafana.stop()


def test_the_contract_validator_sees_the_specs_required_fields() -> None:
    errors = definition_errors("ProvisionedAlertRule", {"title": "x"})

    for field in ("orgID", "folderUID", "ruleGroup", "condition", "data", "noDataState", "execErrState", "for"):
        assert any(f"'{field}' is a required property" in e for e in errors), errors
    assert definition_errors("ProvisionedAlertRule", {
        "orgID": 1, "folderUID": "f", "ruleGroup": "g", "title": "t", "condition": "A", "data": [],
        "noDataState": "NoData", "execErrState": "Error", "for": "1m"}) == []
    assert definition_errors("ProvisionedAlertRule", {
        "orgID": 1, "folderUID": "f", "ruleGroup": "g", "title": "t", "condition": "A", "data": [],
        "noDataState": "Sometimes", "execErrState": "Error", "for": "1m"}) != []


def test_a_literal_route_wins_over_a_templated_one() -> None:
    contract = GrafanaContract()

    export = contract.match("GET", "/api/v1/provisioning/alert-rules/export")
    one = contract.match("GET", "/api/v1/provisioning/alert-rules/abc")

    assert export is not None
    assert one is not None
    assert export[0].operation_id == "RouteGetAlertRulesExport"
    assert (one[0].operation_id, one[1]) == ("RouteGetAlertRule", {"UID": "abc"})


def test_unknown_routes_and_off_contract_bodies_are_violations(fake: FakeGrafana) -> None:
    unknown = requests.get(f"{fake.url}/api/dashboards/db/whatever", headers=AUTH, timeout=5)
    bad_query = requests.get(f"{fake.url}/api/search", params={"tags": "x"}, headers=AUTH, timeout=5)
    bad_body = requests.put(f"{fake.url}/api/v1/provisioning/folder/f/rule-groups/g", headers=AUTH, timeout=5,
                            json={"title": "g", "interval": 60, "rules": [{"title": "no other field"}]})

    assert (unknown.status_code, bad_query.status_code, bad_body.status_code) == (404, 400, 400)
    assert len(fake.violations) >= 3
    assert any("no such operation" in v for v in fake.violations)
    assert any("undeclared query parameters ['tags']" in v for v in fake.violations)
    assert any("request to RoutePutAlertRuleGroup: rules/0: 'condition' is a required property" in v
               for v in fake.violations)


def test_a_response_off_the_contract_is_a_violation(fake: FakeGrafana, monkeypatch: pytest.MonkeyPatch) -> None:
    def bad_health(**_: Any) -> tuple[int, Any]:
        return 200, {"version": 11}  # the spec says a string

    monkeypatch.setattr(fake, "op_getHealth", bad_health)

    requests.get(f"{fake.url}/api/health", timeout=5)

    assert fake.violations == ["response to getHealth (200): version: 11 is not of type 'string'"]


def test_dashboards_keep_versions_and_refuse_stale_saves_like_grafana(fake: FakeGrafana) -> None:
    def save(body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{fake.url}/api/dashboards/db", json=body, headers=AUTH, timeout=5)

    missing_folder = save({"dashboard": {"uid": "d", "title": "D"}, "folderUid": "nope"})
    first = save({"dashboard": {"uid": "d", "title": "D"}})
    same_again = save({"dashboard": {"uid": "d", "title": "D", "version": 1}})
    stale = save({"dashboard": {"uid": "d", "title": "D", "version": 1}})
    forced = save({"dashboard": {"uid": "d", "title": "D"}, "overwrite": True})
    no_token = requests.get(f"{fake.url}/api/dashboards/uid/d", timeout=5)

    assert missing_folder.status_code == 404
    assert [first.json()["version"], same_again.json()["version"]] == [1, 2]
    assert stale.status_code == 412
    assert stale.json()["status"] == "version-mismatch"
    assert forced.json()["version"] == 3
    assert no_token.status_code == 401
    assert fake.violations == []


def test_rule_groups_are_validated_like_grafana(fake: FakeGrafana) -> None:
    fake.seed_folder("f", "F")
    rule = {"uid": "r1", "orgID": 1, "folderUID": "f", "ruleGroup": "g", "title": "R", "condition": "C",
            "noDataState": "NoData", "execErrState": "Error", "for": "1m",
            "data": [{"refId": "A", "datasourceUid": "missing", "model": {}}]}

    def put(interval: int, rules: list[dict[str, Any]]) -> requests.Response:
        return requests.put(f"{fake.url}/api/v1/provisioning/folder/f/rule-groups/g", headers=AUTH, timeout=5,
                            json={"title": "g", "folderUid": "f", "interval": interval, "rules": rules})

    assert "divided exactly by scheduler interval: 10s" in put(15, [rule]).json()["message"]
    assert "condition C does not exist" in put(20, [rule]).json()["message"]
    rule["condition"] = "A"
    assert "data source not found" in put(20, [rule]).json()["message"]
    rule["data"] = [{"refId": "A", "datasourceUid": "__expr__", "model": {}}]
    assert "should be unique" in put(20, [rule, {**rule, "uid": "r2"}]).json()["message"]
    ok = put(20, [rule])
    assert ok.status_code == 200
    listed = requests.get(f"{fake.url}/api/v1/provisioning/alert-rules", headers=AUTH, timeout=5).json()
    assert [(r["uid"], r["provenance"]) for r in listed] == [("r1", "api")]
    assert fake.violations == []


def test_like_grafana_the_fake_reads_a_rule_group_back_without_provenance_in_the_callers_org() -> None:
    fake = FakeGrafana(tokens={"t": "Admin"}, org_id=3).start()
    try:
        fake.seed_folder("f", "F")
        rule = {"uid": "r1", "orgID": 1, "folderUID": "f", "ruleGroup": "g", "title": "R", "condition": "A",
                "noDataState": "OK", "execErrState": "Error", "for": "1m",
                "data": [{"refId": "A", "datasourceUid": "__expr__", "model": {}}]}
        url = f"{fake.url}/api/v1/provisioning/folder/f/rule-groups/g"
        auth = {"Authorization": "Bearer t"}
        requests.put(url, headers=auth, timeout=5, json={"title": "g", "folderUid": "f", "interval": 20,
                                                         "rules": [rule]}).raise_for_status()

        (back,) = requests.get(url, headers=auth, timeout=5).json()["rules"]
        org = requests.get(f"{fake.url}/api/org", headers=auth, timeout=5).json()
    finally:
        fake.stop()
    assert "provenance" not in back
    assert (back["orgID"], org["id"]) == (3, 3)
    assert fake.violations == []


def test_like_grafana_the_fake_refuses_to_update_a_data_source_provisioned_from_files(fake: FakeGrafana) -> None:
    fake.seed_datasource({"uid": "p", "name": "P", "type": "prometheus", "access": "proxy",
                          "url": "http://prometheus:9090"}, read_only=True)
    url = f"{fake.url}/api/datasources/uid/p"

    view = requests.get(url, headers=AUTH, timeout=5).json()
    put = requests.put(url, headers=AUTH, timeout=5, json={"name": "P", "type": "prometheus", "access": "proxy",
                                                            "url": "http://elsewhere:9090"})

    assert view["readOnly"] is True
    assert (put.status_code, put.json()["message"]) == (403, "Cannot update read-only data source")
    assert fake.store.datasources["p"]["url"] == "http://prometheus:9090"


def test_the_fake_can_fail_after_saving_redirect_and_answer_with_a_login_page(fake: FakeGrafana) -> None:
    fake.fail("POST", "^/api/folders$", 504, after=True)
    fake.fail("GET", "^/api/folders/x$", 302, headers={"Location": "/login"})
    fake.fail("GET", "^/api/search$", 200, raw="<html>Sign in</html>")

    saved = requests.post(f"{fake.url}/api/folders", headers=AUTH, json={"uid": "x", "title": "X"}, timeout=5)
    moved = requests.get(f"{fake.url}/api/folders/x", headers=AUTH, timeout=5, allow_redirects=False)
    page = requests.get(f"{fake.url}/api/search", headers=AUTH, timeout=5)

    assert saved.status_code == 504
    assert "x" in fake.store.folders
    assert (moved.status_code, moved.headers["Location"]) == (302, "/login")
    assert (page.status_code, page.headers["Content-Type"], page.text) == (200, "text/html; charset=utf-8",
                                                                          "<html>Sign in</html>")


def test_the_fake_ruler_wants_a_tenant_and_one_group_per_post() -> None:
    mimir = FakeMimir().start()
    try:
        url = f"{mimir.url}/prometheus/config/v1/rules/ns"
        yaml_type = {"Content-Type": "application/yaml"}
        no_tenant = requests.post(url, data="name: g\nrules: []\n", headers=yaml_type, timeout=5)
        a_file = requests.post(url, data="groups:\n- name: g\n", headers={**yaml_type, "X-Scope-OrgID": "t"},
                               timeout=5)
        ok = requests.post(url, data="name: g\nrules:\n- record: a:b\n  expr: '1'\n",
                           headers={**yaml_type, "X-Scope-OrgID": "t"}, timeout=5)
        listed = requests.get(url, headers={"X-Scope-OrgID": "t"}, timeout=5)
        other_tenant = requests.get(url, headers={"X-Scope-OrgID": "u"}, timeout=5)
    finally:
        mimir.stop()

    assert (no_tenant.status_code, no_tenant.text) == (401, "no org id\n")
    assert a_file.status_code == 400
    assert ok.status_code == 202
    assert listed.text == "ns:\n- name: g\n  rules:\n  - record: a:b\n    expr: '1'\n"
    assert other_tenant.status_code == 404
    assert mimir.violations == ["POST /prometheus/config/v1/rules/ns: body is not exactly one rule group"]
