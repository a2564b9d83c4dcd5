"""The report of a day of synthetic data in a real Prometheus: its numbers are PromQL's, every alert
that fired is listed at its minutes, every panel is drawn, and the HTML and PDF render with images."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import yaml

from exporters.catalogue import CATALOGUE
from generator import conventions
from generator.demo.stack import rule_files
from generator.model import Spec
from generator.report.commands import make_report
from generator.report.panels import parse_board
from generator.report.query import Source
from generator.report.render import HTML_NAME, PDF_NAME
from tests.report.conftest import Written
from tests.report.dayofdata import EPISODES, STEP, Day

pytestmark = pytest.mark.servers


def _promql(source: Source, query: str, at: float) -> dict[tuple[tuple[str, str], ...], float]:
    return {tuple(sorted((k, v) for k, v in labels.items() if k != "__name__")): value
            for labels, value in source.instant(query, at)}


def _key(series: str, job: str) -> tuple[tuple[str, str], ...]:
    pairs = [("job", job), *(tuple(p.split("=", 1)) for p in series.split(", ") if p)]
    return tuple(sorted((k, v) for k, v in pairs))


STAT_QUERY = {"min": "min_over_time({s})", "mean": "avg_over_time({s})", "max": "max_over_time({s})",
              "P50": "quantile_over_time(0.5, {s})", "P95": "quantile_over_time(0.95, {s})",
              "P99": "quantile_over_time(0.99, {s})"}


def test_kpi_numbers_are_promqls_answers(written: Written, default_spec: Spec) -> None:
    source = Source(written.day.url)
    window = f"[{int(written.period.seconds)}s:{STEP}s]"
    checked = 0
    for kpi in written.report.kpis:
        key = _key(kpi.series, default_spec.job)
        for name, value in kpi.stats:
            if name.startswith("% "):  # share of time in a state: avg of (value == state)
                state = kpi.signal.query.states.index(name[2:])  # type: ignore[union-attr]
                query = f"avg_over_time(({kpi.query} == bool {state}){window})"
            else:
                query = STAT_QUERY[name].format(s=kpi.query + window)
            assert _promql(source, query, written.period.end)[key] == pytest.approx(value, rel=1e-9, abs=1e-12), \
                (kpi.signal.name, name)
            checked += 1
        for breach, tier in zip(kpi.breaches, (t for a in default_spec.alerts_on(kpi.signal) for t in a.tiers),
                                strict=True):
            op = "==" if tier.op == "==" else tier.op
            query = f"count_over_time(({kpi.query} {op} {tier.threshold}){window}) * {STEP}"
            expected = _promql(source, query, written.period.end).get(key, 0.0)
            assert breach.seconds == expected, (kpi.signal.name, tier.severity)
            checked += 1
    assert checked >= 3 * len(default_spec.signals)


def test_breaches_give_the_verdicts_a_reader_expects(written: Written) -> None:
    # Per signal, the verdicts of its rows (one per series: per store, per instance...).
    verdicts: dict[str, set[str]] = {}
    for k in written.report.kpis:
        verdicts.setdefault(k.signal.name, set()).add(k.verdict)
    assert verdicts["trade_latency"] == {"warning threshold crossed"}
    assert verdicts["node_latency"] == {"critical threshold crossed"}
    assert verdicts["circuit_breaker"] == {"critical threshold crossed"}
    assert verdicts["mev_avoidance"] == {"warning threshold crossed"}
    assert verdicts["memory"] == {"ok"}
    assert verdicts["db_connections"] == {"ok"}
    assert len([k for k in written.report.kpis if k.signal.name == "db_connections"]) == 2  # postgres, questdb
    assert written.report.verdict() == "critical threshold crossed"
    breaker = next(k for k in written.report.kpis if k.signal.name == "circuit_breaker")
    assert breaker.breaches[0].seconds == 10 * STEP  # open for minutes 720-729


def test_every_alert_that_fired_is_listed_with_its_times(written: Written) -> None:
    start = written.day.start
    listed = [(s.alert, s.severity, s.priority, s.start, s.end) for s in written.report.spans]
    expected = [(e.alert, e.severity, e.priority, start + e.fires[0] * STEP, start + (e.fires[1] + 1) * STEP)
                for e in EPISODES]
    assert listed == sorted(expected, key=lambda x: x[3])
    html = written.files[HTML_NAME].decode()
    for e in EPISODES:
        assert re.search(rf"<td>{e.alert}</td><td>{e.severity}</td><td>{e.priority}</td>", html)


def published(day: Day) -> set[str]:
    return {line.split("{", 1)[0] for line in day.openmetrics.splitlines() if not line.startswith("#")}


def recorded_from(raw: set[str], rule_texts: Iterable[str]) -> set[str]:
    """The raw series plus every recording rule that reads only raw series that are there: promtool's
    rule backfill evaluates rules against the raw data alone, so a rule of a rule records nothing."""
    rules = [(r["record"], r["expr"]) for text in rule_texts for g in yaml.safe_load(text)["groups"]
             for r in g["rules"] if "record" in r]
    metrics = {s for m in CATALOGUE.values() for s in (m.name, *m.series_names)} | {name for name, _ in rules}
    reads = {name: set(re.findall(r"[a-zA-Z_:][\w:]*", expr)) & metrics for name, expr in rules}
    return raw | {name for name, used in reads.items() if used and used <= raw}


def test_every_panel_is_drawn_with_the_alerts_that_read_it(written: Written, default_spec: Spec) -> None:
    html = written.files[HTML_NAME].decode()
    panels = [(b.title, p.title) for b in written.boards for p in b.panels]
    images = re.findall(r"<img alt='([^']*)' src='data:image/png;base64,", html)
    assert images == [f"{b} / {p}" for b, p in panels]
    drawn = {(d.board.title, p.panel.title): p for d in written.report.boards for p in d.panels}
    # A panel has data exactly when every series it reads is in the day (raw or recorded by a rule).
    known = recorded_from(published(written.day), rule_files(default_spec).values())
    for key, p in drawn.items():
        if any(" offset " in t.expr for t in p.panel.targets):
            continue  # a week before the day: no data there, by design of the day
        reads = {m for t in p.panel.targets for m in re.findall(r"([a-zA-Z_:][\w:]*)\{", t.expr)}
        assert p.has_data == (bool(reads) and reads <= known), (key, reads - known)
    assert sum(p.has_data for p in drawn.values()) >= len(default_spec.signals)
    shaded = {key: set(p.alerts) for key, p in drawn.items()}
    latency = next(b.title for b in written.boards if b.file.endswith("latency.json"))
    assert "TradeExecutionLatencyHigh (warning) firing" in shaded[(latency, "Trade execution P99 latency")]
    assert "SolanaNodeLatencyHigh (critical) firing" in shaded[(latency, "Solana node P99 latency")]
    assert shaded[(latency, "Trade execution P99 latency")].isdisjoint({"SolanaNodeLatencyHigh (critical) firing"})
    assert not any(shaded[k] for k in shaded if k[1] in ("Memory usage", "Trade failure rate"))


def _tinted(img: np.ndarray) -> int:
    """Pixels that are not grey: threshold bands, lines and alert spans (text and tables are grey)."""
    return int(((img.max(axis=2) - img.min(axis=2)) > 0.02).sum())


def test_the_html_renders_with_its_images_in_chromium(written: Written, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: scripts/setup.sh installs it"
    n = len(written.report.boards[0].panels)
    shot = tmp_path / "page.png"
    # Tall enough for the tables and the first dashboard's plots.
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size=1200,{1000 + 520 * n}", f"--screenshot={shot}",
                    (written.directory / HTML_NAME).as_uri()], capture_output=True, timeout=120, check=True)
    img = mpimg.imread(str(shot))[..., :3]
    assert img.shape[0] >= 1000 + 520 * n
    # Each plot's threshold bands tint most of its ~1000x450 pixels; a missing image tints none.
    assert _tinted(img[1000:]) > n * 100_000


def test_the_pdf_has_a_rendered_page_per_panel(written: Written, tmp_path: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm is missing: scripts/setup.sh installs poppler-utils"
    pdf = written.directory / PDF_NAME
    subprocess.run([pdftoppm, "-r", "30", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    panels = sum(len(b.panels) for b in written.boards)
    assert len(pages) == 2 + len(written.report.extras) + panels
    tables, plots = pages[:2], pages[2 + len(written.report.extras):]
    for page in tables:
        img = mpimg.imread(str(page))[..., :3]
        assert (img < 0.5).any(axis=2).sum() > 500, page.name  # text was drawn
    drawn = [p for b in written.report.boards for p in b.panels]
    for page, panel in zip(plots, drawn, strict=True):
        img = mpimg.imread(str(page))[..., :3]
        if panel.has_data:  # series lines, threshold bands, heatmap cells: colour
            assert _tinted(img) > 200, (page.name, panel.panel.title)
        else:  # the frame and "No data in this period"
            assert (img < 0.6).any(axis=2).sum() > 200, (page.name, panel.panel.title)
    assert np.all([p.stat().st_size > 0 for p in pages])


def test_a_panel_without_data_says_so(written: Written, default_spec: Spec) -> None:
    board = parse_board({"title": "Extra", "panels": [
        {"id": 7, "type": "timeseries", "title": "Gas price",
         "targets": [{"expr": 'rate(gas_price_gwei{job=~"$job"}[$__rate_interval])', "refId": "A"}]},
        {"id": 8, "type": "alertlist", "title": "Firing alerts"}],
        "templating": {"list": [{"name": "job", "type": "query", "allValue": ".+"}]}}, "extra.json")
    assert [p.title for p in board.panels] == ["Gas price"]  # an alert list draws no series
    report, files = make_report(default_spec, [board], written.day.url, written.period)
    (drawn,) = report.boards[0].panels
    assert not drawn.has_data
    # Grafana's $__rate_interval: max(step + scrape interval, 4 x scrape interval) = 60s + 15s.
    assert drawn.panel.targets[0].expr == 'rate(gas_price_gwei{job=~".+"}[75s])'
    assert "Extra / Gas price: no data in this period" in files[HTML_NAME].decode()


def test_sections_the_spec_has_rules_for_are_shown(written: Written, default_spec: Spec) -> None:
    (section,) = written.report.extras
    assert section.extra.title == "SLO attainment and error budget"
    labels = "instance=127.0.0.1:9105, job=tradewatch-exporter"
    # The last value in the period, not the first.
    assert ("job:slo_trade_success:attainment_ratio", labels, 0.999) in section.rows
    # The spec's own SLOs, recorded from the day's raw series: each one's error ratio over a day. (Their
    # budget left reads another recorded series, which promtool's rule backfill cannot evaluate.)
    assert default_spec.analysis is not None
    for slo in default_spec.analysis.slos:
        assert any(name == conventions.slo_error_ratio("1d") and f"slo={slo.name}" in shown
                   for name, shown, _ in section.rows), slo.name
    assert "<h2>SLO attainment and error budget</h2>" in written.files[HTML_NAME].decode()


def test_a_heatmap_is_drawn_from_its_buckets_as_grafana_draws_it(written: Written, default_spec: Spec) -> None:
    name = "trade_execution_latency_seconds"
    board = parse_board({"title": "Distributions", "panels": [
        {"id": 3, "type": "heatmap", "title": "Trade execution latency distribution",
         "options": {"color": {"scheme": "Blues"}, "yAxis": {"unit": "s"}},
         "targets": [{"expr": f"sum by (le) (rate({name}_bucket[$__rate_interval]))", "format": "heatmap",
                      "legendFormat": "{{le}}", "refId": "A"}]}]}, "distributions.json")
    report, _ = make_report(default_spec, [board], written.day.url, written.period)
    (drawn,) = report.boards[0].panels
    assert drawn.has_data
    (ax,) = drawn.figure.axes
    cells = np.asarray(ax.collections[0].get_array()).reshape(len(CATALOGUE[name].buckets) + 1, -1)
    assert [t.get_text() for t in ax.get_yticklabels()][-2:] == ["1s", "+Inf"]
    # Each row is its bucket's own rate: the rows add up to the +Inf bucket, the total rate.
    (total,) = Source(written.day.url).range(f'sum(rate({name}_bucket{{le="+Inf"}}[75s]))', written.period)
    assert cells.min() >= 0
    assert cells.sum(axis=0)[-len(total.values):] == pytest.approx(total.values)
