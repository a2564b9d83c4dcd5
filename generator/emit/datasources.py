"""The two Grafana data sources tradewatch keeps, as ``AddDataSourceCommand`` bodies.

One builder for the API deploy and for the file-provisioning emitter, so both give Grafana the
same uids, names and settings.

Example::

    >>> [d["uid"] for d in datasources("http://prometheus:9090", "http://alertmanager:9093")]
    ['tradewatch-prometheus', 'tradewatch-alertmanager']
"""

from __future__ import annotations

from typing import Any

from generator import conventions


def datasources(
    prometheus_url: str | None,
    alertmanager_url: str | None,
    *,
    mimir: bool = False,
    mimir_tenant: str | None = None,
    grafana_alerts: bool = False,
) -> list[dict[str, Any]]:
    """Prometheus (or Mimir's Prometheus API) and Alertmanager, each only when its URL is known."""
    out: list[dict[str, Any]] = []
    if prometheus_url:
        json_data: dict[str, Any] = {
            "httpMethod": "POST",
            # Lists this data source's rules in Grafana's alert view (Alerting > Alert rules).
            "manageAlerts": True,
            "prometheusType": "Mimir" if mimir else "Prometheus",
        }
        if alertmanager_url:
            json_data["alertmanagerUid"] = conventions.ALERTMANAGER_DS_UID
        body: dict[str, Any] = {"uid": conventions.PROMETHEUS_DS_UID, "name": conventions.PROMETHEUS_DS_NAME,
                                "type": "prometheus", "access": "proxy", "url": prometheus_url, "isDefault": False,
                                "jsonData": json_data}
        if mimir and mimir_tenant:
            json_data["httpHeaderName1"] = "X-Scope-OrgID"
            # Grafana never shows the header's value back; this copy makes a tenant change visible.
            json_data[conventions.TENANT_JSON_KEY] = mimir_tenant
            body["secureJsonData"] = {"httpHeaderValue1": mimir_tenant}
        out.append(body)
    if alertmanager_url:
        out.append({"uid": conventions.ALERTMANAGER_DS_UID, "name": conventions.ALERTMANAGER_DS_NAME,
                    "type": "alertmanager", "access": "proxy", "url": alertmanager_url, "isDefault": False,
                    # Grafana forwards its own alerts here only when it evaluates them.
                    "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": grafana_alerts}})
    return out
