"""A twin of Prometheus 2.42's PromQL evaluation, for ``expr`` signals over synthetic raw series.

The generated promtool tests prove an ``expr`` signal's alerts from the raw series an exporter
publishes, so tradewatch must know what the recording rule makes of those series at every step:
this module evaluates the parsed expression (``promql-parser``, the parser ``validate`` already
uses) the way Prometheus 2.42's engine does. It covers what free PromQL over counters and gauges
is made of: selectors with ``offset``, the range functions (``rate``/``increase`` with their
extrapolation, ``irate``, ``delta``, ``changes``, ``*_over_time``), the arithmetic functions,
``label_replace``, aggregation ``by``/``without``, and binary operators with vector matching
(``on``/``ignoring``, ``group_left``/``group_right``, ``bool``, ``and``/``or``/``unless``). What is
outside it (``histogram_quantile``, ``time()``, subqueries, ``@``) raises :class:`Unsupported`, and
``validate`` says so; promtool, running the tests before anything is written, is the final judge.

No Python library evaluates PromQL (the ones on PyPI query a server), hence this module.

Example::

    >>> series = [Series({"__name__": "up", "job": "x"}, [1.0] * 10)]
    >>> evaluate(parse("avg by (job) (avg_over_time(up[5m]))"), series, t=540.0, step=60.0)
    {(('job', 'x'),): 1.0}
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import promql_parser as pp

# Prometheus' default lookback: an instant selector sees the latest sample up to 5 minutes old.
LOOKBACK = 300.0
NAME = "__name__"

Labels = tuple[tuple[str, str], ...]  # sorted, as Prometheus orders a series' labels
Vector = dict[Labels, float]
Value = Vector | float


class Unsupported(Exception):
    """The expression uses something this twin does not evaluate (the message names it)."""


@dataclass(frozen=True)
class Series:
    """A raw series: its labels (``__name__`` included) and a sample every ``step`` from t=0 (None: no sample)."""

    labels: Mapping[str, str]
    samples: Sequence[float | None]

    def key(self) -> Labels:
        return tuple(sorted(self.labels.items()))


@functools.lru_cache(maxsize=256)
def parse(expr: str) -> pp.Expr:
    """The expression's tree, parsed once: every case, window and step question reads the same one."""
    return pp.parse(expr)


def _seconds(delta: object) -> float:
    return 0.0 if delta is None else float(delta.total_seconds())  # type: ignore[attr-defined]


def _matches(labels: Mapping[str, str], matchers: pp.Matchers, name: str | None) -> bool:
    if name is not None and labels.get(NAME) != name:
        return False
    if matchers.or_matchers:
        raise Unsupported("'or' between label matchers")
    return all(_accepts(str(m.op), m.value, labels.get(m.name, "")) for m in matchers.matchers)


def _accepts(op: str, wanted: str, value: str) -> bool:
    """One label matcher (an absent label matches as the empty string)."""
    if op.endswith("NotEqual"):
        return value != wanted
    if op.endswith("NotRe"):
        return not go_regex(wanted).fullmatch(value)
    if op.endswith(".Re"):
        return bool(go_regex(wanted).fullmatch(value))
    return value == wanted


# RE2 syntax Python's re reads differently or not at all: POSIX classes, \z, \C, \p{...}.
_RE2_ONLY = re.compile(r"\[\[:|\\[zCpPQE]")


@functools.lru_cache(maxsize=1024)
def go_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` (RE2, as Prometheus reads it) as a Python regex; Unsupported where they differ."""
    if _RE2_ONLY.search(pattern):
        raise Unsupported(f"the RE2 syntax of the regex {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error:
        raise Unsupported(f"the regex {pattern!r}") from None


def _drop_name(labels: Labels) -> Labels:
    return tuple(item for item in labels if item[0] != NAME)


# --- range functions: Prometheus' promql/functions.go, 2.42 -----------------------------------------

Points = list[tuple[float, float]]


def _extrapolated(points: Points, start: float, end: float, rng: float, *, counter: bool,
                  per_second: bool) -> float | None:
    """extrapolatedRate: rate(), increase() and delta()."""
    if len(points) < 2:
        return None
    result = points[-1][1] - points[0][1]
    if counter:
        last = 0.0
        for _, v in points:
            if v < last:
                result += last
            last = v
    to_start = points[0][0] - start
    to_end = end - points[-1][0]
    sampled = points[-1][0] - points[0][0]
    average = sampled / (len(points) - 1)
    if counter and result > 0 and points[0][1] >= 0:
        to_zero = sampled * (points[0][1] / result)
        to_start = min(to_start, to_zero)
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    factor = interval / sampled
    if per_second:
        factor /= rng
    return result * factor


def _instant_rate(points: Points, is_rate: bool) -> float | None:
    """instantValue: irate() and idelta()."""
    if len(points) < 2:
        return None
    (t0, v0), (t1, v1) = points[-2], points[-1]
    result = v1 - v0
    if is_rate and v1 < v0:
        result = v1
    if is_rate:
        result = result / (t1 - t0)
    return result


def _changes(points: Points, resets: bool) -> float | None:
    count, prev = 0, points[0][1]
    for _, v in points[1:]:
        if (v < prev) if resets else (v != prev and not (math.isnan(v) and math.isnan(prev))):
            count += 1
        prev = v
    return float(count)


def _kahan_inc(inc: float, total: float, c: float) -> tuple[float, float]:
    """kahanSumInc: Neumaier's compensated addition, as 2.42's *_over_time functions add."""
    t = total + inc
    if abs(total) >= abs(inc):
        c += (total - t) + inc
    else:
        c += (inc - t) + total
    return t, c


def _avg_over_time(points: Points) -> float:
    mean, count, c = 0.0, 0.0, 0.0
    for _, v in points:
        count += 1
        if math.isinf(mean) and ((math.isinf(v) and (mean > 0) == (v > 0)) or not (math.isinf(v) or math.isnan(v))):
            continue
        mean, c = _kahan_inc(v / count - mean / count, mean, c)
    return mean if math.isinf(mean) else mean + c


def _sum_over_time(points: Points) -> float:
    total, c = 0.0, 0.0
    for _, v in points:
        total, c = _kahan_inc(v, total, c)
    return total if math.isinf(total) else total + c


OVER_TIME: dict[str, Callable[[Points], float]] = {
    "avg_over_time": _avg_over_time,
    "min_over_time": lambda ps: _extreme([v for _, v in ps], lower=True),
    "max_over_time": lambda ps: _extreme([v for _, v in ps], lower=False),
    "sum_over_time": _sum_over_time,
    "count_over_time": lambda ps: float(len(ps)),
    "last_over_time": lambda ps: ps[-1][1],
}


def _sum(values: Sequence[float]) -> float:
    total = 0.0  # plain addition in order, as 2.42's sum() aggregates (no compensation there yet)
    for v in values:
        total += v
    return total


def _extreme(values: Sequence[float], lower: bool) -> float:
    """min/max as Prometheus takes them: a NaN gives way to any number."""
    out = values[0]
    for v in values[1:]:
        if (v < out if lower else v > out) or math.isnan(out):
            out = v
    return out


MATH: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": lambda v: float(math.ceil(v)) if math.isfinite(v) else v,
    "floor": lambda v: float(math.floor(v)) if math.isfinite(v) else v,
    "exp": lambda v: math.exp(v) if v < 709.8 else math.inf,
    "sqrt": lambda v: math.sqrt(v) if v >= 0 else math.nan,
    "ln": lambda v: math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "log2": lambda v: math.log2(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "log10": lambda v: math.log10(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "sgn": lambda v: float((v > 0) - (v < 0)) if not math.isnan(v) else v,
}

COMPARISON: dict[str, Callable[[float, float], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
    "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
}


def _divide(a: float, b: float) -> float:
    """Go's float division: x/0 is ±Inf, 0/0 NaN."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1, b)


def _pow(a: float, b: float) -> float:
    try:
        return float(math.pow(a, b))
    except (OverflowError, ValueError):
        return math.inf if a > 0 else math.nan


ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": lambda a, b: math.fmod(a, b) if b != 0 else math.nan,
    "^": _pow,
}

# --- the evaluator ------------------------------------------------------------------------------------

class _Evaluator:
    def __init__(self, series: Sequence[Series], step: float) -> None:
        self.series = [(s.key(), s) for s in sorted(series, key=Series.key)]
        self.step = step

    def points(self, series: Series, start: float, end: float) -> Points:
        """Samples in [start, end], both ends closed (Prometheus 2.x)."""
        first = max(0, math.ceil(start / self.step - 1e-9))
        last = min(len(series.samples) - 1, math.floor(end / self.step + 1e-9))
        return [(i * self.step, v) for i in range(first, last + 1)
                if (v := series.samples[i]) is not None]

    def selected(self, node: pp.VectorSelector) -> list[tuple[Labels, Series]]:
        if node.at is not None:
            raise Unsupported("the @ modifier")
        return [(key, s) for key, s in self.series if _matches(s.labels, node.matchers, node.name)]

    def eval(self, node: pp.Expr, t: float) -> Value:
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr, t)
        if isinstance(node, pp.NumberLiteral):
            return float(node.val)
        if isinstance(node, pp.VectorSelector):
            ref = t - _seconds(node.offset)
            out: Vector = {}
            for key, s in self.selected(node):
                points = self.points(s, ref - LOOKBACK, ref)
                if points:
                    out[key] = points[-1][1]
            return out
        if isinstance(node, pp.UnaryExpr):
            value = self.eval(node.expr, t)
            if isinstance(value, float):
                return -value
            return {_drop_name(k): -v for k, v in value.items()}
        if isinstance(node, pp.Call):
            return self.call(node, t)
        if isinstance(node, pp.AggregateExpr):
            return self.aggregate(node, t)
        if isinstance(node, pp.BinaryExpr):
            return self.binary(node, t)
        raise Unsupported(type(node).__name__.removesuffix("Expr").lower() or "this expression")

    def vector(self, node: pp.Expr, t: float) -> Vector:
        value = self.eval(node, t)
        if isinstance(value, float):
            raise Unsupported("a scalar where a vector is needed")
        return value

    def scalar(self, node: pp.Expr, t: float) -> float:
        value = self.eval(node, t)
        if not isinstance(value, float):
            raise Unsupported("a vector where a number is needed")
        return value

    def call(self, node: pp.Call, t: float) -> Value:
        name = node.func.name
        args = node.args
        if name in ("rate", "increase", "delta", "irate", "idelta", "changes", "resets") or name in OVER_TIME:
            matrix = args[0]
            if not isinstance(matrix, pp.MatrixSelector):
                raise Unsupported(f"{name}() over a subquery")
            vs = matrix.vector_selector
            rng, offset = _seconds(matrix.range), _seconds(vs.offset)
            end = t - offset
            out: Vector = {}
            for key, s in self.selected(vs):
                points = self.points(s, end - rng, end)
                if not points:
                    continue
                value: float | None
                if name in ("rate", "increase", "delta"):
                    value = _extrapolated(points, end - rng, end, rng, counter=name != "delta",
                                          per_second=name == "rate")
                elif name in ("irate", "idelta"):
                    value = _instant_rate(points, name == "irate")
                elif name in ("changes", "resets"):
                    value = _changes(points, name == "resets")
                else:
                    value = OVER_TIME[name](points)
                if value is not None:
                    out[key if name == "last_over_time" else _drop_name(key)] = value
            return out
        if name in MATH:
            return {_drop_name(k): MATH[name](v) for k, v in self.vector(args[0], t).items()}
        if name in ("clamp", "clamp_min", "clamp_max"):
            vec = self.vector(args[0], t)
            bounds = [self.scalar(a, t) for a in args[1:]]
            lo = bounds[0] if name in ("clamp", "clamp_min") else -math.inf
            hi = bounds[-1] if name in ("clamp", "clamp_max") else math.inf
            if name == "clamp" and lo > hi:
                return {}
            return {_drop_name(k): max(lo, min(hi, v)) for k, v in vec.items()}
        if name == "round":
            vec = self.vector(args[0], t)
            to = self.scalar(args[1], t) if len(args) > 1 else 1.0
            return {_drop_name(k): math.floor(v * (1 / to) + 0.5) / (1 / to) for k, v in vec.items()}
        if name == "vector":
            return {(): self.scalar(args[0], t)}
        if name == "scalar":
            vec = self.vector(args[0], t)
            return next(iter(vec.values())) if len(vec) == 1 else math.nan
        if name in ("sort", "sort_desc"):
            return self.vector(args[0], t)
        if name == "label_replace":
            return self.label_replace(args, t)
        raise Unsupported(f"{name}()")

    def label_replace(self, args: Sequence[pp.Expr], t: float) -> Vector:
        vec = self.vector(args[0], t)
        dst, repl, src, regex = (a.val for a in args[1:])  # type: ignore[attr-defined]
        pattern = go_regex(f"^(?:{regex})$")
        template = re.sub(r"\$\{?(\w+)\}?", lambda m: f"\\g<{m[1]}>", repl)
        out: Vector = {}
        for key, v in vec.items():
            labels = dict(key)
            found = pattern.match(labels.get(src, ""))
            if found is not None:
                value = found.expand(template)
                if value:
                    labels[dst] = value
                else:
                    labels.pop(dst, None)
            out[tuple(sorted(labels.items()))] = v
        return out

    def aggregate(self, node: pp.AggregateExpr, t: float) -> Vector:
        op = str(node.op)
        if op not in ("sum", "avg", "min", "max", "count", "group"):
            raise Unsupported(f"the {op} aggregation")
        vec = self.vector(node.expr, t)
        modifier = node.modifier
        names = set(modifier.labels) if modifier is not None else set()
        without = modifier is not None and str(modifier.type).endswith("Without")
        groups: dict[Labels, list[float]] = {}
        for key, v in vec.items():
            if without:
                group = tuple((k, x) for k, x in key if k not in names and k != NAME)
            else:
                group = tuple((k, x) for k, x in key if k in names)
            groups.setdefault(group, []).append(v)
        out: Vector = {}
        for group, values in groups.items():
            if op == "sum":
                out[group] = _sum(values)
            elif op == "avg":
                mean, count = values[0], 1.0
                for v in values[1:]:
                    count += 1
                    mean += v / count - mean / count
                out[group] = mean
            elif op in ("min", "max"):
                out[group] = _extreme(values, lower=op == "min")
            elif op == "count":
                out[group] = float(len(values))
            else:
                out[group] = 1.0
        return out

    def binary(self, node: pp.BinaryExpr, t: float) -> Value:
        op = str(node.op)
        modifier = node.modifier
        return_bool = modifier is not None and modifier.return_bool
        lhs, rhs = self.eval(node.lhs, t), self.eval(node.rhs, t)
        if op in ("and", "or", "unless"):
            if isinstance(lhs, float) or isinstance(rhs, float):
                raise Unsupported(f"{op} between numbers")
            return self.set_op(op, lhs, rhs, modifier)
        if op in ARITHMETIC:
            fn: Callable[[float, float], float | None] = ARITHMETIC[op]
        elif op in COMPARISON:
            cmp = COMPARISON[op]
            fn = (lambda a, b: float(cmp(a, b))) if return_bool else (lambda a, b: a if cmp(a, b) else None)
        else:
            raise Unsupported(f"the {op} operator")
        keep_name = op in COMPARISON and not return_bool
        if isinstance(lhs, float) and isinstance(rhs, float):
            value = fn(lhs, rhs)
            return math.nan if value is None else value
        if isinstance(rhs, float):
            return self.scalar_op(lhs, rhs, fn, keep_name, swap=False)  # type: ignore[arg-type]
        if isinstance(lhs, float):
            return self.scalar_op(rhs, lhs, fn, keep_name, swap=True)
        return self.vector_op(lhs, rhs, fn, keep_name, modifier)

    @staticmethod
    def scalar_op(vec: Vector, scalar: float, fn: Callable[[float, float], float | None], keep_name: bool,
                  swap: bool) -> Vector:
        out: Vector = {}
        for key, v in vec.items():
            value = fn(scalar, v) if swap else fn(v, scalar)
            if value is None:
                continue
            if keep_name and swap is False:
                out[key] = value
            elif keep_name:
                out[key] = v  # a filter keeps the vector's own sample
            else:
                out[_drop_name(key)] = value
        return out

    @staticmethod
    def signature(key: Labels, modifier: pp.BinModifier | None) -> Labels:
        matching = modifier.matching if modifier is not None else None
        if matching is not None and str(matching.type).endswith("Include"):
            return tuple((k, v) for k, v in key if k in matching.labels)
        ignored = set(matching.labels) if matching is not None else set()
        return tuple((k, v) for k, v in key if k != NAME and k not in ignored)

    def vector_op(self, lhs: Vector, rhs: Vector, fn: Callable[[float, float], float | None], keep_name: bool,
                  modifier: pp.BinModifier | None) -> Vector:
        card = str(modifier.card) if modifier is not None else "OneToOne"
        right_side = card.endswith("OneToMany")
        many, one = (rhs, lhs) if right_side else (lhs, rhs)
        by_sig: dict[Labels, tuple[Labels, float]] = {}
        for key, v in one.items():
            sig = self.signature(key, modifier)
            if sig in by_sig:
                raise Unsupported("many-to-many matching (Prometheus refuses it at evaluation)")
            by_sig[sig] = (key, v)
        matching = modifier.matching if modifier is not None else None
        on = matching is not None and str(matching.type).endswith("Include")
        listed = set(matching.labels) if matching is not None else set()
        include = set(modifier.group_labels) if modifier is not None and modifier.group_labels else set()
        out: Vector = {}
        for key, v in many.items():
            found = by_sig.get(self.signature(key, modifier))
            if found is None:
                continue
            other_key, other = found
            a, b = (other, v) if right_side else (v, other)
            value = fn(a, b)
            if value is None:
                continue
            labels = dict(key)
            if not keep_name:
                labels.pop(NAME, None)
            if card.endswith("OneToOne"):
                if on:
                    labels = {k: x for k, x in labels.items() if k in listed}
                else:
                    labels = {k: x for k, x in labels.items() if k not in listed}
            for name in include:
                found_value = dict(other_key).get(name)
                if found_value:
                    labels[name] = found_value
                else:
                    labels.pop(name, None)
            result = tuple(sorted(labels.items()))
            if result in out:
                raise Unsupported("a binary operation whose results collide (Prometheus refuses it)")
            out[result] = value
        return out

    def set_op(self, op: str, lhs: Vector, rhs: Vector, modifier: pp.BinModifier | None) -> Vector:
        right = {self.signature(k, modifier) for k in rhs}
        if op == "and":
            return {k: v for k, v in lhs.items() if self.signature(k, modifier) in right}
        if op == "unless":
            return {k: v for k, v in lhs.items() if self.signature(k, modifier) not in right}
        left = {self.signature(k, modifier) for k in lhs}
        return {**lhs, **{k: v for k, v in rhs.items() if self.signature(k, modifier) not in left}}


def evaluate(tree: pp.Expr, series: Sequence[Series], t: float, step: float) -> Vector:
    """What a recording rule of ``tree`` records at ``t`` seconds, over ``series`` sampled every ``step``."""
    value = _Evaluator(series, step).eval(tree, t)
    if isinstance(value, float):
        return {(): value}
    return value


def trace(tree: pp.Expr, series: Sequence[Series], steps: int, step: float) -> list[Vector]:
    """:func:`evaluate` at 0, step, ... (steps - 1) * step."""
    ev = _Evaluator(series, step)
    out: list[Vector] = []
    for i in range(steps):
        value = ev.eval(tree, i * step)
        out.append({(): value} if isinstance(value, float) else value)
    return out


def lookback(tree: pp.Expr) -> float:
    """How far back the expression reads: its longest range plus offset, plus the lookback."""
    return longest_range(tree) + LOOKBACK


def longest_range(tree: pp.Expr) -> float:
    """The longest range (with its offset) or offset the expression reads, in seconds."""
    longest = 0.0

    def visit(node: pp.Expr) -> None:
        nonlocal longest
        if isinstance(node, pp.MatrixSelector):
            longest = max(longest, _seconds(node.range) + max(0.0, _seconds(node.vector_selector.offset)))
        elif isinstance(node, pp.VectorSelector):
            longest = max(longest, 0.0, _seconds(node.offset))

    pp.walk(tree, visit)
    return longest
