"""tradewatch: one threshold spec to Prometheus rules, Grafana dashboards and promtool tests."""
