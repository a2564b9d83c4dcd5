"""``tradewatch report``: the daily performance report, drawn from a real Prometheus.

query (Prometheus HTTP API) -> panels (the generated Grafana dashboards, read as Grafana reads them)
-> stats (KPI table, alert spans) -> plot (matplotlib) -> render (HTML with inlined images, PDF)
-> send (SMTP, webhook, an info notice through Alertmanager).
"""
