"""The signal kinds: every query type has one, and what they promise the validator and the tests."""

from __future__ import annotations

import math
import typing

import pytest

from generator import model
from generator.kinds import REGISTRY, kind_of, value_range
from generator.kinds.expr import CannotSynthesise, regex_example
from generator.kinds.quantile import bucket_weights, histogram_quantile
from generator.model import Quantile, Ratio, Selector, Signal, Spec
from generator.units import Dimension, Duration

BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.2)


def test_every_query_type_of_the_model_has_a_kind() -> None:
    # A new kind of signal is a new module registered here; one the model knows but no kind
    # implements would fail at generate time.
    assert set(typing.get_args(model.Query)) == set(REGISTRY)


@pytest.mark.parametrize("target", [0.0005, 0.001, 0.0042, 0.01, 0.073, 0.1, 0.15, 0.2])
@pytest.mark.parametrize("q", [0.5, 0.95, 0.99, 0.999])
def test_synthesised_buckets_put_the_quantile_on_the_value_asked_for(q: float, target: float) -> None:
    cumulative, exact = bucket_weights(q, BUCKETS, target)
    assert cumulative == sorted(cumulative), "bucket counters must be cumulative"
    # Nothing lies below the first bucket: its q-quantile is at least q times its bound.
    reachable = max(target, q * BUCKETS[0])
    assert exact == (target == reachable)
    assert math.isclose(histogram_quantile(q, BUCKETS, cumulative), reachable, rel_tol=1e-9)


def test_past_the_top_finite_bucket_the_quantile_stops_there_and_says_so() -> None:
    cumulative, exact = bucket_weights(0.99, BUCKETS, 5.0)
    assert not exact
    assert histogram_quantile(0.99, BUCKETS, cumulative) == BUCKETS[-1]


def _signal(query: model.Query, dim: Dimension) -> Signal:
    return Signal("s", "S", "", "d", query, dim)


def test_value_ranges_are_what_raw_data_can_produce() -> None:
    latency = _signal(Quantile(Selector("x_seconds"), 0.99, Duration("5m"), BUCKETS), Dimension.TIME)
    assert value_range(latency) == (0.99 * 0.001, 0.2)
    failures = _signal(Ratio((Selector("t_total", (("status", "failed"),)),), (Selector("t_total"),), Duration("5m")),
                       Dimension.RATIO)
    assert value_range(failures) == (0.0, 1.0)


def test_a_ratio_is_synthesised_from_counters_that_give_it_exactly(default_spec: Spec) -> None:
    signal = next(s for s in default_spec.signals if s.name == "trade_failure")
    made = kind_of(signal).synthesise(signal, {"job": "j"}, 0.102, 60.0)
    assert made.exact
    assert math.isclose(made.value, 0.102)
    # Failures counted under the numerator's label, the rest under a status no selector names.
    assert {dict(s.labels)["status"] for s in made.series} == {"failed", "tradewatch_other"}


def test_a_windowed_counter_ramps_up_while_its_window_fills() -> None:
    signal = _signal(model.Rate(Selector("m_total"), Duration("10m")), Dimension.RATE)
    made = kind_of(signal).synthesise(signal, {"job": "j"}, 6.0, 60.0)
    assert made.at(0) is None
    assert made.at(300) == pytest.approx(3.0)
    assert made.at(600) == made.at(3600) == 6.0


def _expr(expr: str, metrics: tuple[str, ...], dim: Dimension = Dimension.RATIO, by: tuple[str, ...] = ()) -> Signal:
    return Signal("s", "S", "", "d", model.Expr(expr, metrics), dim, by=by)


@pytest.mark.parametrize(("expr", "target", "counters"), [
    # Affine in one series: solved in one step.
    ("max by (job) (page_ms) / 1000", 5.1, set()),
    # Not affine (errors over errors plus the rest): found by bisection, to six significant digits.
    ("sum by (job) (rate(e_total[5m])) / (sum by (job) (rate(e_total[5m])) + sum by (job) (rate(ok_total[5m])))",
     0.0525, {"e_total", "ok_total"}),
    ("1 - avg by (job) (avg_over_time(up[1h]))", 0.004, set()),
])
def test_free_promql_is_synthesised_from_raw_series_that_give_the_value(
        expr: str, target: float, counters: set[str]) -> None:
    signal = _expr(expr, ())
    made = kind_of(signal).synthesise(signal, {"job": "j"}, target, 60.0)
    assert all(":" not in s.metric for s in made.series), "raw series, not recorded ones"
    assert math.isclose(made.value, target, rel_tol=1e-5)
    # Counters (climbing) where rate() reads them, gauges (flat) elsewhere.
    assert {s.metric for s in made.series if s.increment > 0} == counters


@pytest.mark.parametrize(("expr", "why"), [
    ("clamp_max(max by (job) (x), 1)", "no raw series found that make it 2"),
    ("histogram_quantile(0.9, sum by (job, le) (rate(x_bucket[5m])))", r"histogram_quantile\(\)"),
    ("x{path=\"/a\"} * 2", "it must record one series per job"),
])
def test_free_promql_it_cannot_prove_is_refused_with_the_reason(expr: str, why: str) -> None:
    signal = _expr(expr, ())
    with pytest.raises(CannotSynthesise, match=why):
        kind_of(signal).synthesise(signal, {"job": "j"}, 2.0, 60.0)


@pytest.mark.parametrize(("pattern", "example"), [
    ("5..", "5xx"), ("/api/.*", "/api/"), ("GET|POST", "GET"), ("[0-9]+", "0"), ("ab?c", "ac"),
    ("(?=a)a", None), ("[^a]", None),
])
def test_a_regex_matcher_gets_a_label_value_it_matches(pattern: str, example: str | None) -> None:
    assert regex_example(pattern) == example


@pytest.mark.parametrize(("expr", "apart"), [
    ("max by (job) (g)", True),
    ("sum by (job) (rate(x_total[5m])) / scalar(max(sum by (job) (rate(x_total[5m]))))", False),
    ("sum by (job) (g) / on () group_left sum(g)", False),
])
def test_free_promql_that_reads_every_job_keeps_its_test_cases_apart(expr: str, apart: bool) -> None:
    signal = _expr(expr, ())
    assert kind_of(signal).keeps_jobs_apart(signal) is apart
