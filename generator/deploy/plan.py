"""A plan: what each object will become (create / update / unchanged / delete / would-delete), the
readable diff of each change, and the steps that make it so.

Planning only reads. Applying runs the steps in order; a step whose prerequisite failed is not
attempted, and the report says which changes landed, which failed (with the server's words) and
which were not attempted, so a re-run knows what is left, and finishes it.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from generator.deploy.errors import AuthError, DeployError, UnreachableError

Action = Literal["create", "update", "unchanged", "delete", "would-delete"]
SYMBOL: dict[Action, str] = {"create": "+", "update": "~", "unchanged": "=", "delete": "-",
                             "would-delete": "!"}


@dataclass(frozen=True)
class Change:
    """One object and what the plan does to it."""

    target: str  # "Grafana", "Prometheus", "Mimir"
    kind: str  # "folder", "datasource", "dashboard", "alert rule group", "rule file", "rule group"
    name: str
    action: Action
    diff: str = ""
    detail: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind} {self.name}"

    def line(self) -> str:
        detail = f"  ({self.detail})" if self.detail else ""
        return f"  {SYMBOL[self.action]} {self.action:<12} {self.kind} {self.name}{detail}"


@dataclass
class Step:
    """Work that makes ``changes`` true; ``run`` returns a note for the report (e.g. 'version 4')."""

    label: str
    changes: tuple[Change, ...]
    run: Callable[[], str]
    needs: tuple[str, ...] = ()
    # The rules: if this fails, nothing after it runs, so Grafana never shows thresholds the
    # evaluator does not alert on.
    gate: bool = False


@dataclass
class Section:
    """The plan for one target (a Grafana, a Prometheus rule dir, a Mimir namespace)."""

    title: str
    changes: list[Change] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    first: bool = False  # applied before the other sections (the rule evaluator's)


@dataclass
class Plan:
    sections: list[Section] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return [c for s in self.sections for c in s.changes]

    @property
    def steps(self) -> list[Step]:
        """Every step, the rule evaluator's first: dashboards follow the rules, never lead them."""
        return [st for s in sorted(self.sections, key=lambda s: not s.first) for st in s.steps]

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def render(self, *, show_diff: bool = True) -> str:
        out: list[str] = []
        for section in self.sections:
            out.append(section.title)
            out.extend(f"  note: {n}" for n in section.notes)
            for change in section.changes:
                out.append(change.line())
                if show_diff and change.diff:
                    out.extend("      " + ln for ln in change.diff.rstrip("\n").splitlines())
        out.append(self.summary())
        return "\n".join(out) + "\n"

    def summary(self) -> str:
        parts = [f"{self.count('create')} to create", f"{self.count('update')} to update",
                 f"{self.count('unchanged')} unchanged"]
        if self.count("delete"):
            parts.append(f"{self.count('delete')} to delete")
        if self.count("would-delete"):
            parts.append(f"{self.count('would-delete')} stale (kept; --prune deletes them)")
        return "Plan: " + ", ".join(parts) + "."


@dataclass
class Outcome:
    step: Step
    status: Literal["landed", "failed", "not attempted"]
    note: str = ""


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(o.status == "landed" for o in self.outcomes)

    def of(self, status: str) -> Iterator[Outcome]:
        return (o for o in self.outcomes if o.status == status)

    def render(self) -> str:
        if not self.outcomes:
            return "Nothing to change: everything is up to date.\n"
        out: list[str] = []
        for o in self.outcomes:
            word = {"landed": "landed", "failed": "FAILED", "not attempted": "not attempted"}[o.status]
            what = ", ".join(f"{c.action} {c.key}" for c in o.step.changes)
            note = f": {o.note}" if o.note else ""
            out.append(f"  {word:<13} {what}{note}")
        landed = sum(len(o.step.changes) for o in self.of("landed"))
        total = sum(len(o.step.changes) for o in self.outcomes)
        if self.ok:
            out.append(f"Deployed: {landed} change(s) landed.")
        else:
            out.append(f"Deploy incomplete: {landed} of {total} change(s) landed. Fix the cause above and "
                       "run the deploy again; it picks up what is left.")
        return "\n".join(out) + "\n"


def apply(steps: Sequence[Step]) -> Report:
    """Run every step whose prerequisites landed; stop at errors that doom the rest (auth, network)."""
    report = Report()
    done: dict[str, bool] = {}
    fatal: str | None = None
    for step in steps:
        missing = [n for n in step.needs if not done.get(n, True)]
        if fatal is not None or missing:
            reason = fatal or f"needs {', '.join(missing)}, which did not land"
            report.outcomes.append(Outcome(step, "not attempted", reason))
            done[step.label] = False
            continue
        try:
            note = step.run()
        except (AuthError, UnreachableError) as exc:
            report.outcomes.append(Outcome(step, "failed", str(exc)))
            done[step.label] = False
            fatal = "stopped after the failure above"
            continue
        except DeployError as exc:
            report.outcomes.append(Outcome(step, "failed", str(exc)))
            done[step.label] = False
            if step.gate:
                fatal = "the rules did not land, so Grafana is left matching the rules still in force"
            continue
        report.outcomes.append(Outcome(step, "landed", note))
        done[step.label] = True
    return report


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def canonical_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False)


def unified(before: str, after: str, name: str, *, context: int = 2) -> str:
    """A unified diff, live object (server) first, generated object second."""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"{name} (live)", tofile=f"{name} (generated)", n=context,
    )
    return "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines)
