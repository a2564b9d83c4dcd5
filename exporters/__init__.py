"""tradewatch's Prometheus exporter for the metrics no off-the-shelf exporter has."""
