"""Performance analysis as code: SLOs with error budgets, component health and trend.

Each part is parsed from its own spec section (``slos``, ``health``) by ``analysis.spec``, modelled
in ``analysis.model`` and emitted as rule files, promtool tests and a dashboard of its own by
``analysis.emit``, registered once in ``generator.generate``.
"""
