"""Raw PromQL, for what the other kinds cannot say.

Its tests still start from raw series: every selector of the expression gets one raw series (a
counter where a rate-like function reads it, a gauge elsewhere), labelled by its ``=`` matchers and
the recorded series' labels, and one series' value (or slope) is solved for so the expression
records the value asked for, with :mod:`generator.promeval` standing in for Prometheus. The whole
trace of the recorded value over the test's timeline comes with it, so an expression that only
moves for a while (new series, ``changes()``, ``offset``) is replayed as it is, not assumed steady.

Example::

    >>> made = KIND.synthesise(page_load, {"job": "defi-monitor"}, 5.1, 60.0)
    >>> [(s.metric, s.start) for s in made.series]
    [('page_load_time_ms', 5100.0)]
"""

from __future__ import annotations

import functools
import importlib
import itertools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import promql_parser as pp

from generator import conventions, promeval
from generator.kinds.base import Kind, RawSeries, Synthesis
from generator.kinds.gauge import dimension_range
from generator.model import Expr, Signal
from generator.units import format_duration

# The regex parser ``re`` itself uses (``sre_parse`` is its deprecated alias; typeshed has no stubs for it).
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

# Functions that read their selector as a counter: its raw series climbs at the solved slope.
COUNTER_FUNCTIONS = frozenset({"rate", "increase", "irate", "resets"})
# Values a non-linear search tries first (and their negatives, for gauges).
GRID = (0.0, *(10.0 ** k for k in range(-6, 10)))
RELATIVE = 1e-9
# A step to evaluate at where the step does not matter.
TEST_STEP = 60.0


class CannotSynthesise(Exception):
    """No raw series tradewatch can make give the value asked for (the message says why)."""


def _query(signal: Signal) -> Expr:
    assert isinstance(signal.query, Expr)
    return signal.query


@dataclass(frozen=True)
class _Input:
    labels: tuple[tuple[str, str], ...]  # with __name__
    counter: bool


def _children(node: pp.Expr) -> list[pp.Expr]:
    if isinstance(node, pp.ParenExpr | pp.UnaryExpr | pp.AggregateExpr | pp.SubqueryExpr):
        return [node.expr]
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.Call):
        return [a for a in node.args if isinstance(a, pp.Expr)]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    return []


def _label_value(name: str, op: str, wanted: str, current: str | None) -> str | None:
    """A value for label ``name`` that the matcher accepts, keeping ``current`` when it does."""
    if op.endswith(".Equal"):
        return wanted
    if op.endswith(".Re"):
        if current is not None and promeval.go_regex(wanted).fullmatch(current):  # Unsupported: RE2-only syntax
            return current
        example = regex_example(wanted)
        if example is None:
            raise CannotSynthesise(f"no label value chosen for {name}=~{wanted!r}; match it with = instead")
        return example
    excluded = current == wanted if op.endswith("NotEqual") else (
        current is not None and bool(promeval.go_regex(wanted).fullmatch(current)))
    if excluded:
        raise CannotSynthesise(f"the recorded series' {name}={current!r} is excluded by the matcher on {name}")
    return current


def regex_example(pattern: str) -> str | None:
    """A short string the (anchored) regex matches: the first alternative, the fewest repeats, ``x``
    for any character (``5..`` gives ``5xx``, ``/api/.*`` gives ``/api/``). None when the pattern
    uses what this cannot write (lookarounds, backreferences) or the guess does not match."""
    promeval.go_regex(pattern)  # RE2 syntax re would read otherwise is Unsupported
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None

    def write(items: Any) -> str | None:
        out = []
        for op, arg in items:
            if op is sre_constants.LITERAL:
                out.append(chr(arg))
            elif op is sre_constants.ANY:
                out.append("x")
            elif op is sre_constants.IN:
                first = next(((o, a) for o, a in arg if o in (sre_constants.LITERAL, sre_constants.RANGE)), None)
                if first is None:
                    return None
                out.append(chr(first[1] if first[0] is sre_constants.LITERAL else first[1][0]))
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                low, _, sub = arg
                part = write(sub)
                if part is None:
                    return None
                out.append(part * low)
            elif op is sre_constants.SUBPATTERN:
                part = write(arg[-1])
                if part is None:
                    return None
                out.append(part)
            elif op is sre_constants.BRANCH:
                part = write(arg[1][0])
                if part is None:
                    return None
                out.append(part)
            elif op is sre_constants.AT:
                continue
            else:
                return None
        return "".join(out)

    example = write(parsed)
    return example if example is not None and promeval.go_regex(pattern).fullmatch(example) else None


def _inputs(tree: pp.Expr, labels: Mapping[str, str]) -> list[_Input]:
    found: dict[tuple[tuple[str, str], ...], bool] = {}

    def visit(node: pp.Expr, counter: bool) -> None:
        if isinstance(node, pp.VectorSelector):
            if node.name is None:
                raise CannotSynthesise("a selector without a metric name")
            made: dict[str, str] = dict(labels)
            for m in node.matchers.matchers:
                value = _label_value(m.name, str(m.op), m.value, made.get(m.name))
                if value is None:
                    made.pop(m.name, None)
                else:
                    made[m.name] = value
            made[promeval.NAME] = node.name
            key = tuple(sorted(made.items()))
            found[key] = found.get(key, False) or counter
            return
        inside = counter or (isinstance(node, pp.Call) and node.func.name in COUNTER_FUNCTIONS)
        for child in _children(node):
            visit(child, inside)

    visit(tree, False)
    return [_Input(key, counter) for key, counter in found.items()]


def _climbing(increment: float, steps: int) -> list[float | None]:
    """A counter's samples as promtool expands ``0+<increment>x<n>``: adding the increment each time."""
    out: list[float | None] = []
    value = 0.0
    for _ in range(steps):
        out.append(value)
        value += increment
    return out


def _clean(v: float) -> float:
    return float(f"{v:.6g}")


class _Problem:
    """One expression, its raw inputs for one recorded series, and how long its values take to settle."""

    def __init__(self, signal: Signal, labels: Mapping[str, str], step: float) -> None:
        self.signal = signal
        self.tree = promeval.parse(_query(signal).expr)
        self.inputs = _inputs(self.tree, labels)
        if not self.inputs:
            raise CannotSynthesise("the expression reads no series")
        self.key = tuple(sorted(labels.items()))
        self.step = step
        # Every window, offset and lookback full, twice over a step: from here on constant gauges and
        # steady counters give a constant value.
        self.steps = math.ceil(promeval.lookback(self.tree) / step) + 3

    def series(self, params: list[float], steps: int) -> list[promeval.Series]:
        out = []
        for inp, p in zip(self.inputs, params, strict=True):
            samples = _climbing(p * self.step, steps) if inp.counter else [p] * steps
            out.append(promeval.Series(dict(inp.labels), samples))
        return out

    def value(self, vector: promeval.Vector) -> float | None:
        if not vector:
            return None
        if set(vector) != {self.key}:
            got = ", ".join(sorted("{" + ", ".join(f"{k}={v!r}" for k, v in key) + "}" for key in vector))
            want = ", ".join(k for k, _ in self.key)
            raise CannotSynthesise(f"the expression records {got}; it must record one series per {want} "
                                   "(aggregate the other labels away, or list them in by:)")
        return vector[self.key]

    def at(self, params: list[float], index: int) -> float | None:
        return self.value(promeval.evaluate(self.tree, self.series(params, index + 1), index * self.step, self.step))

    def trace(self, params: list[float]) -> list[float | None]:
        vectors = promeval.trace(self.tree, self.series(params, self.steps), self.steps, self.step)
        return [self.value(v) for v in vectors]


def _close(a: float | None, b: float) -> bool:
    return a is not None and (a == b or abs(a - b) <= RELATIVE * max(abs(a), abs(b)))


def _solve_one(problem: _Problem, index: int, driver: int, target: float) -> list[float] | None:
    """Parameters, all 1 but the driver's, that make the value at step ``index`` equal ``target``."""
    base = [1.0] * len(problem.inputs)

    def g(x: float) -> float | None:
        params = list(base)
        params[driver] = x
        value = problem.at(params, index)
        return None if value is None or math.isnan(value) else value

    g0, g1, g2 = g(0.0), g(1.0), g(2.0)
    if g1 is not None and _close(g1, target):
        return base
    if g0 is not None and g1 is not None and g2 is not None and g1 != g0 and _close(g2 - g1, g1 - g0):
        x = _clean((target - g0) / (g1 - g0))
        if (x >= 0 or not problem.inputs[driver].counter) and _close(g(x), target):
            params = list(base)
            params[driver] = x
            return params
    signs = (1.0,) if problem.inputs[driver].counter else (1.0, -1.0)
    grid = sorted({s * x for s in signs for x in GRID})
    values = [(x, g(x)) for x in grid]
    for (lo, g_lo), (hi, g_hi) in itertools.pairwise(values):
        if g_lo is None or g_hi is None or (g_lo - target) * (g_hi - target) > 0:
            continue
        crossing = _bisect(g, lo, hi, g_lo, target)
        params = list(base)
        params[driver] = _shortest_past(g, crossing, g_lo, target)
        return params
    return None


def _shortest_past(g: Callable[[float], float | None], x: float, g_before: float, target: float) -> float:
    """``x`` in as few significant digits (six or more) as keep g past the crossing: a step
    function (``> bool 1``) rounded back onto its edge would fall off it."""
    for digits in range(6, 18):
        short = float(f"{x:.{digits}g}")
        value = g(short)
        if value is not None and (g_before - target) * (value - target) <= 0:
            return short
    return x


def _bisect(g: Callable[[float], float | None], a: float, b: float, ga: float, target: float) -> float:
    """The end of [a, b] nearest where g crosses ``target`` (g(a) and g(b) on either side of it)."""
    for _ in range(200):
        mid = (a + b) / 2
        gm = g(mid)
        if gm is None or mid in (a, b):
            break
        if (ga - target) * (gm - target) <= 0:
            b = mid
        else:
            a, ga = mid, gm
    return b


@functools.lru_cache(maxsize=4096)
def _synthesise(signal: Signal, labels: tuple[tuple[str, str], ...], value: float, step: float) -> Synthesis:
    problem = _Problem(signal, dict(labels), step)
    # The settled value first; an expression that settles where nothing can move it (one that marks
    # what is new) is taken where it first has a value.
    last = problem.steps - 1
    probes = [last]
    first_trace = problem.trace([1.0] * len(problem.inputs))
    first = next((i for i, v in enumerate(first_trace) if v is not None), None)
    if first is not None and first != last:
        probes.append(first)
    for index in probes:
        for driver in range(len(problem.inputs)):
            params = _solve_one(problem, index, driver, value)
            if params is None:
                continue
            trace = tuple(problem.trace(params))
            made = trace[index]
            assert made is not None
            series = tuple(
                RawSeries(dict(inp.labels)[promeval.NAME],
                          tuple((k, v) for k, v in inp.labels if k != promeval.NAME),
                          0.0 if inp.counter else p, p * step if inp.counter else 0.0)
                for inp, p in zip(problem.inputs, params, strict=True))
            return Synthesis(series, trace[-1] if trace[-1] is not None else math.nan,
                             exact=made == value, trace=trace, trace_step=step)
    raise CannotSynthesise(f"no raw series found that make it {value:g}: varying one series read by the "
                           "expression at a time never gets there")


@functools.lru_cache(maxsize=256)
def _keeps_jobs_apart(signal: Signal) -> bool:
    try:
        by = {label: f"example_{label}" for label in signal.by}
        one = _Problem(signal, {conventions.LEVEL_LABEL: "one", **by}, TEST_STEP)
        two = _Problem(signal, {conventions.LEVEL_LABEL: "two", **by}, TEST_STEP)
        last = one.steps - 1
        # Different values in each job, so a cross-job max, sum or scalar() shows.
        a, b = one.series([1.0] * len(one.inputs), last + 1), two.series([3.0] * len(two.inputs), last + 1)
        t = last * TEST_STEP
        apart = {**promeval.evaluate(one.tree, a, t, TEST_STEP), **promeval.evaluate(two.tree, b, t, TEST_STEP)}
        together = promeval.evaluate(one.tree, [*a, *b], t, TEST_STEP)
    except (CannotSynthesise, promeval.Unsupported, ArithmeticError):
        return True  # validate refuses it before any test is made
    return set(apart) == set(together) and all(_close(together[k], v) or (math.isnan(v) and math.isnan(together[k]))
                                               for k, v in apart.items())


class ExprKind(Kind):
    def operation(self, signal: Signal) -> str:
        return conventions.EXPR_OP

    def expr(self, signal: Signal) -> str:
        return _query(signal).expr

    def metrics(self, signal: Signal) -> tuple[str, ...]:
        return _query(signal).metrics

    def window(self, signal: Signal) -> str | None:
        """The longest range the PromQL reads: a day or more of it is tested at a coarser step."""
        longest = promeval.longest_range(promeval.parse(_query(signal).expr))
        return format_duration(longest) if longest else None

    def keeps_jobs_apart(self, signal: Signal) -> bool:
        """Free PromQL may aggregate across jobs: two jobs' inputs evaluated together must give what
        each gives alone."""
        return _keeps_jobs_apart(signal)

    def value_range(self, signal: Signal) -> tuple[float, float]:
        lo, hi = dimension_range(signal.dim)
        return (lo if signal.dim.value in ("ratio", "percent") else -math.inf, hi)

    def synthesise(self, signal: Signal, labels: Mapping[str, str], value: float, step: float,
                   hold: float = 0.0) -> Synthesis:
        """Raises :class:`CannotSynthesise` where no raw series found give ``value`` (``validate`` asks first)."""
        try:
            return _synthesise(signal, tuple(sorted(labels.items())), value, step)
        except promeval.Unsupported as exc:
            raise CannotSynthesise(f"tradewatch cannot evaluate {exc} for its tests") from None
        except ArithmeticError as exc:
            raise CannotSynthesise(f"evaluating it for its tests overflowed ({exc})") from None

    def no_traffic(self, signal: Signal, labels: Mapping[str, str], step: float) -> Synthesis | None:
        """Counters that do not move, when every series the expression reads is a counter."""
        try:
            problem = _Problem(signal, labels, step)
            if not all(inp.counter for inp in problem.inputs):
                return None
            trace = tuple(problem.trace([0.0] * len(problem.inputs)))
        except (CannotSynthesise, promeval.Unsupported, ArithmeticError):
            return None
        series = tuple(RawSeries(dict(inp.labels)[promeval.NAME],
                                 tuple((k, v) for k, v in inp.labels if k != promeval.NAME))
                       for inp in problem.inputs)
        return Synthesis(series, trace[-1] if trace[-1] is not None else math.nan, trace=trace, trace_step=step)


def holds_for(made: Synthesis, op: str, threshold: float, hold: float, step: float) -> bool:
    """Whether the synthesised value stays ``op threshold`` for ``hold`` seconds somewhere in its trace
    (the settled value counts as lasting)."""
    values = [*made.trace, made.trace[-1] if made.trace else made.value]
    run = 0
    for i, v in enumerate(values):
        crossed = v is not None and not math.isnan(v) and (v > threshold if op == ">" else v < threshold)
        run = run + 1 if crossed else 0
        if crossed and ((run - 1) * step >= hold or i == len(values) - 1):
            return True
    return False


KIND = ExprKind()
