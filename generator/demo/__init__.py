"""``tradewatch demo`` and ``tradewatch alert-log``: the whole system on loopback, without Docker."""
