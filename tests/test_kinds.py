"""The signal kinds: every query type has one, and what they promise the validator and the tests."""

from __future__ import annotations

import math
import typing

import pytest

from generator import model
from generator.kinds import REGISTRY, kind_of, value_range
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
