"""``tradewatch deploy``: make a Grafana and a rule evaluator match the repository, safely.

Pipeline: spec -> generated files (``generator.generate.render``) -> desired objects
(``desired``) -> a plan per target, read-only (``grafana``, ``prometheus``, ``mimir``) ->
``apply`` runs the plan's steps and reports what landed. Nothing is written before every target
has been read, so a bad token or an unreachable host changes nothing.
"""
