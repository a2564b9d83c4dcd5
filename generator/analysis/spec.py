"""The ``slos`` and ``health`` sections -> the analysis model, checked for meaning.

Called by ``generator.spec`` once the signals and alerts are built, with its builder, so errors
land in the same list, each with file, line and YAML path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from prometheus_client.utils import floatToGoString

from generator import conventions, kinds
from generator.analysis import baseline as baseline_file
from generator.analysis.model import (
    Analysis,
    BurnAlert,
    BurnWindow,
    EventsSli,
    Health,
    HealthComponent,
    Kpi,
    LatencySli,
    Regressions,
    Sli,
    Slo,
)
from generator.errors import YamlPath
from generator.model import DEFAULT_PRIORITY, Priority, Selector, Severity, Signal
from generator.units import Dimension, UnitError, format_duration, format_quantity, parse_duration, parse_quantity

if TYPE_CHECKING:
    from generator.contract import Family
    from generator.spec import _Builder

# The Google SRE workbook's multi-window, multi-burn-rate alerts for a 30-day period, as sloth
# generates them (internal/alert/windows.go): (long window, short window, burn rate).
REFERENCE_PERIOD = "30d"
PAGE_WINDOWS = (("1h", "5m", 14.4), ("6h", "30m", 6.0))
TICKET_WINDOWS = (("1d", "2h", 3.0), ("3d", "6h", 1.0))
DEFAULT_PERIOD = "30d"


def _scaled(window: str, scale: float) -> str:
    """A window scaled to another period, in whole minutes (at least one)."""
    minutes = max(1, round(parse_duration(window) * scale / 60))
    return format_duration(minutes * 60)


def burn_windows(period: str) -> dict[str, tuple[BurnWindow, ...]]:
    """The page and ticket windows for ``period``: the 30d windows scaled so that each still
    spends the same share of the budget (2% in the 1h window, 5% in 6h, 10% in 1d and in 3d)."""
    scale = parse_duration(period) / parse_duration(REFERENCE_PERIOD)
    return {kind: tuple(BurnWindow(_scaled(long, scale), _scaled(short, scale), factor)
                        for long, short, factor in table)
            for kind, table in (("page", PAGE_WINDOWS), ("ticket", TICKET_WINDOWS))}


def build(b: _Builder, signal_alerts: set[str], dashboards: set[str], signals: dict[str, Signal]) -> Analysis:
    raw = b.raw
    taken = set(signal_alerts)
    for area, section in ((conventions.SLO_AREA, "slos"), (conventions.HEALTH_AREA, "health"),
                          (conventions.REGRESSION_AREA, "regressions")):
        if area in dashboards and section in raw:
            b.err(("dashboards", area), f"the dashboard name {area!r} is taken by the {area} section's own dashboard")
    slos = []
    for name, body in raw.get("slos", {}).items():
        slo = _slo(b, name, body, taken)
        if slo is not None:
            slos.append(slo)
            taken |= {a.name for a in slo.alerts}
    health = _health(b, raw["health"], taken) if "health" in raw else None
    if health is not None:
        taken.add(health.alert)
    regressions = _regressions(b, raw["regressions"], signals, taken) if "regressions" in raw else None
    _check_routes(b, slos, health, regressions)
    return Analysis(tuple(slos), health, regressions)


def _runbook(b: _Builder, body: dict[str, Any], alert: str) -> str:
    base = b.raw.get("links", {}).get("runbooks", "https://github.com/tradewatch/tradewatch/blob/main/docs/runbooks.md")
    return str(body.get("runbook") or conventions.runbook_url(base, alert))


def _ratio(b: _Builder, raw: Any, path: YamlPath, *, below_one: bool) -> float | None:
    try:
        value = parse_quantity(raw, Dimension.RATIO)
    except UnitError as exc:
        b.err(path, str(exc))
        return None
    if below_one and not 0 < value < 1:
        b.err(path, f"{raw!r} must lie between 0% and 100%, exclusive")
        return None
    return value


def _family_of(b: _Builder, sel: Selector) -> Family | None:
    """The metric contract's family of a checked selector (tied to its system's job, if any)."""
    job = next((v for label, v in sel.match if label == conventions.LEVEL_LABEL and isinstance(v, str)), None)
    return b.contract.family(job, sel.metric)


def _bucket(b: _Builder, histogram: Selector, raw: Any, path: YamlPath) -> tuple[float, str] | None:
    """``raw`` as seconds, checked to be a bucket boundary of the histogram: an SLI counted from a
    bucket is exact only at a boundary."""
    try:
        value = parse_quantity(raw, Dimension.TIME)
    except UnitError as exc:
        b.err(path, str(exc))
        return None
    fam = _family_of(b, histogram)
    if fam is None:
        return None
    buckets = fam.metric.buckets
    match = next((bound for bound in buckets if abs(bound - value) <= 1e-12 * max(1.0, bound)), None)
    if match is None:
        shown = ", ".join(format_quantity(x, Dimension.TIME) for x in buckets)
        b.err(path, f"{format_quantity(value, Dimension.TIME)} is not a bucket boundary of {histogram.metric} "
                    f"({shown}); good events can only be counted at a boundary")
        return None
    # The label value as prometheus_client writes it (0.1, 1.0).
    return match, str(floatToGoString(match))  # type: ignore[no-untyped-call]


def _histogram(b: _Builder, raw: dict[str, Any], path: YamlPath) -> Selector | None:
    sel, fam = b.selector(raw, path, ("histogram",))
    if fam is None:
        return None
    if fam.series != fam.metric.name:
        b.err((*path, "metric"), f"name the histogram {fam.metric.name!r}, not its {fam.series!r} series")
        return None
    return sel


def _slo(b: _Builder, name: str, body: dict[str, Any], taken: set[str]) -> Slo | None:
    path: YamlPath = ("slos", name)
    kinds = [k for k in ("latency", "events") if k in body]
    if len(kinds) != 1:
        b.err(path, f"set exactly one of latency, events (found {', '.join(kinds) or 'none'})")
        return None
    objective = _ratio(b, body["objective"], (*path, "objective"), below_one=True)
    period = str(body.get("period", DEFAULT_PERIOD))
    if parse_duration(period) < parse_duration("1d"):
        b.err((*path, "period"), f"a period of {period} is too short for burn-rate alerts; use 1d or more")
        return None
    sli: Sli | None = None
    if "latency" in body:
        lpath = (*path, "latency")
        hist = _histogram(b, body["latency"], lpath)
        bound = _bucket(b, hist, body["latency"]["le"], (*lpath, "le")) if hist is not None else None
        if hist is not None and bound is not None:
            sli = LatencySli(hist, bound[0], bound[1])
    else:
        epath = (*path, "events")
        errors, _ = b.selector(body["events"]["errors"], (*epath, "errors"), ("counter",))
        total, _ = b.selector(body["events"]["total"], (*epath, "total"), ("counter",))
        sli = EventsSli(errors, total)
    if sli is None or objective is None:
        return None
    alert = conventions.slo_burn_alert_name(name)
    if alert in taken:
        b.err(path, f"the SLO's alert {alert} has the name of another alert; rename the SLO or that alert")
    windows = burn_windows(period)
    alerts = []
    for kind, severity in (("page", "critical"), ("ticket", "warning")):
        sev = cast(Severity, severity)
        priority = cast(Priority, body.get(kind, {}).get("priority", DEFAULT_PRIORITY[sev]))
        alerts.append(BurnAlert(kind, alert, sev, priority, windows[kind]))
    return Slo(
        name=name, title=body["title"], description=body.get("description", ""), objective=objective,
        objective_display=format_quantity(objective, Dimension.RATIO), period=period, sli=sli,
        alerts=tuple(alerts), impact=body.get("impact", ""), action=body.get("action", ""),
        runbook_url=_runbook(b, body, alert), line=b.loc.where(path)[0],
    )


def _health(b: _Builder, body: dict[str, Any], taken: set[str]) -> Health | None:
    path: YamlPath = ("health",)
    by = body["by"]
    latency = _histogram(b, body["latency"], (*path, "latency"))
    errors, efam = b.selector(body["errors"], (*path, "errors"), ("counter",))
    total, tfam = b.selector(body["total"], (*path, "total"), ("counter",))
    lfam = _family_of(b, latency) if latency is not None else None
    for key, fam in (("latency", lfam), ("errors", efam), ("total", tfam)):
        if fam is not None and by not in fam.metric.labels:
            b.err((*path, key, "metric"), f"{fam.metric.name} has no label {by!r}; every health metric needs the "
                                          f"component label named in by")
    windows = {}
    for key, default in (("window", "5m"), ("violations_window", "5m"), ("trend_window", "1h")):
        windows[key] = str(body.get(key, default))
    if parse_duration(windows["trend_window"]) % 4:
        b.err((*path, "trend_window"), "the trend window must split into four whole-second quarters")
    components = []
    for name, contract in body["components"].items():
        cpath = (*path, "components", name)
        bound = _bucket(b, latency, contract["max_latency"], (*cpath, "max_latency")) if latency else None
        max_err = _ratio(b, contract["max_error_rate"], (*cpath, "max_error_rate"), below_one=True)
        if bound is not None and max_err is not None:
            components.append(HealthComponent(
                name, bound[0], format_quantity(bound[0], Dimension.TIME), bound[1],
                max_err, format_quantity(max_err, Dimension.RATIO)))
    alert = body.get("alert", {})
    name = alert.get("name", conventions.HEALTH_ALERT)
    if name in taken:
        b.err((*path, "alert", "name"), f"another alert is named {name}; name the health alert in health.alert.name")
    severity = cast(Severity, alert.get("severity", "warning"))
    if latency is None or len(components) != len(body["components"]):
        return None
    healthy = float(body.get("healthy_above", 80))
    return Health(
        title=body.get("title", conventions.ANALYSIS_TITLES[conventions.HEALTH_AREA]), by=by, latency=latency,
        errors=errors, total=total, components=tuple(components), window=windows["window"],
        violations_window=windows["violations_window"], trend_window=windows["trend_window"],
        healthy_above=healthy, alert=name, severity=severity,
        priority=cast(Priority, alert.get("priority", DEFAULT_PRIORITY[severity])),
        for_=str(alert.get("for", "10m")),
        summary=alert.get("summary", f"Component health below {healthy:g}"),
        impact=alert.get("impact", ""), action=alert.get("action", ""),
        runbook_url=_runbook(b, alert, name), line=b.loc.where(path)[0],
    )


def _regressions(b: _Builder, body: dict[str, Any], signals: dict[str, Signal], taken: set[str]) -> Regressions | None:
    path: YamlPath = ("regressions",)
    default_tol = _ratio(b, body.get("tolerance", "10%"), (*path, "tolerance"), below_one=True)
    name = str(body.get("baseline", conventions.BASELINE_FILE))
    file = Path(b.loc.file).parent / name
    values, errors = baseline_file.read(file, str(file))
    b.errors.extend(errors)
    kpis = []
    for signal_name, kbody in body["kpis"].items():
        kpath = (*path, "kpis", signal_name)
        signal = signals.get(signal_name)
        if signal is None:
            if signal_name not in b.raw["signals"]:
                b.err(kpath, f"no signal {signal_name!r}; a KPI is a signal{_hint(signal_name, b.raw['signals'])}")
            continue
        record = kinds.record_name(signal)
        if record is None:
            b.err(kpath, f"{signal_name} is an absence signal and has no value to compare")
            continue
        worse = kbody.get("worse") or _worse(b, signal)
        if worse is None:
            b.err(kpath, f"{signal_name} has no alert saying which way is worse; set worse: higher or lower")
            continue
        tol = _ratio(b, kbody["tolerance"], (*kpath, "tolerance"), below_one=True) if "tolerance" in kbody \
            else default_tol
        if tol is None:
            continue
        for alert in (conventions.kpi_baseline_alert(signal_name), conventions.kpi_week_alert(signal_name)):
            if alert in taken:
                b.err(kpath, f"the KPI's alert {alert} has the name of another alert")
        kpis.append(Kpi(signal, record, worse, tol, values.get(signal_name)))
    severity = cast(Severity, body.get("severity", "warning"))
    return Regressions(name, tuple(kpis), str(body.get("for", "30m")), severity,
                       cast(Priority, body.get("priority", DEFAULT_PRIORITY[severity])), b.loc.where(path)[0])


def _hint(word: str, options: Any) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _worse(b: _Builder, signal: Signal) -> str | None:
    """Worse is the way the signal's alerts fire, if they all fire the same way."""
    sides = {key for a in b.raw["alerts"].values() if a.get("signal") == signal.name
             for tier in a["tiers"].values() for key in ("above", "below") if key in tier}
    return {frozenset({"above"}): "higher", frozenset({"below"}): "lower"}.get(frozenset(sides))


def _check_routes(b: _Builder, slos: list[Slo], health: Health | None, regressions: Regressions | None) -> None:
    """Analysis alerts are routed by priority like every other alert: each priority needs a route."""
    notes = b.raw.get("notifications")
    if notes is None:
        return
    routes = set(notes["routes"])
    used: dict[str, YamlPath] = {}
    for slo in slos:
        for alert in slo.alerts:
            used.setdefault(alert.priority, ("slos", slo.name, alert.kind))
    if health is not None:
        used.setdefault(health.priority, ("health", "alert"))
    if regressions is not None and regressions.kpis:
        used.setdefault(regressions.priority, ("regressions",))
    for priority, path in used.items():
        if priority not in routes:
            b.err(path, f"this alert has priority {priority!r}, which has no route in notifications.routes")
