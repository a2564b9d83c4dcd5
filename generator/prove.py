"""Before ``generate`` writes, promtool judges the complete output in a temporary directory.

``promtool check rules`` reads each spec's rule files, started (``Proof.early``) as soon as they
are rendered so that it runs while the rest renders; ``promtool test rules`` runs the generated
unit tests whose test file or rule files differ from what is on disk (the others passed when they
were written, byte for byte), in one run. Anything promtool refuses comes back as text naming the
files where they will be written, not the temporary copies, and a test that hits promtool's sample
limit names the spec line of the window that caused it.

Example::

    problems = prove([(Path("."), files)], Promtool.find(), specs=[spec])
    if problems:  # nothing may be written
        print("\\n".join(problems))
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from generator import conventions, kinds
from generator.model import Spec
from generator.tools import Promtool, ToolResult

# Far above what a spec of a few hundred alerts needs; a bound, so generate always ends.
TEST_TIMEOUT = 600.0
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TOO_MANY = re.compile(r"rule: (?P<record>\S+), time: \S+, err: query processing would load too many samples")


@dataclass(frozen=True)
class Output:
    """One spec's generated files and where they go."""

    root: Path
    files: dict[str, str]
    spec: Spec
    spec_path: str  # as the user named it, for error lines


def _rule_files(files: dict[str, str]) -> list[str]:
    return sorted(p for p in files if p.startswith(f"{conventions.RULES_DIR}/") and p.endswith(".rules.yml")
                  and "/" not in p.removeprefix(f"{conventions.RULES_DIR}/"))


def _test_files(files: dict[str, str]) -> list[str]:
    return sorted(p for p in files if p.startswith(f"{conventions.RULE_TESTS_DIR}/") and p.endswith(".yml"))


def _unchanged(root: Path, rel: str, text: str) -> bool:
    path = root / rel
    try:
        return path.read_bytes() == text.encode()
    except OSError:
        return False


def _needs_test(out: Output, test: str) -> bool:
    """A test runs again unless it and every rule file it loads are on disk exactly as generated."""
    if not _unchanged(out.root, test, out.files[test]):
        return True
    base = Path(test).parent
    for rule_file in _rule_files_of(out.files[test]):
        rel = _norm((base / rule_file).as_posix())
        if rel not in out.files or not _unchanged(out.root, rel, out.files[rel]):
            return True
    return False


def _rule_files_of(text: str) -> list[str]:
    """The ``rule_files`` of a promtool test file, read from libyaml's event stream only as far as
    that list: emitters write it first, and parsing the megabytes of cases after it would cost
    seconds on a large spec."""
    events = iter(yaml.parse(text, Loader=_LOADER))
    if not any(isinstance(event, yaml.MappingStartEvent) for event in events):
        return []
    for key in events:
        if not isinstance(key, yaml.ScalarEvent):  # the end of the top-level mapping
            return []
        value = next(events)
        if key.value == "rule_files":
            if not isinstance(value, yaml.SequenceStartEvent):
                return []
            found: list[str] = []
            for item in events:
                if not isinstance(item, yaml.ScalarEvent):  # the end of the list
                    return found
                found.append(item.value)
        depth = 1 if isinstance(value, yaml.CollectionStartEvent) else 0
        while depth:  # skip the value of another key
            event = next(events)
            depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
    return []


def _norm(rel: str) -> str:
    parts: list[str] = []
    for part in rel.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "/".join(parts)


REFUSED = "promtool check rules refused the generated rules:\n"


class Proof:
    """promtool's judgement of generated outputs, staged in one temporary directory.

    ``early`` starts ``promtool check rules`` on one output's rule files as soon as they are
    rendered, in a thread, so that promtool runs on the other core while the rest renders;
    ``finish`` checks whatever was not checked early (or changed since), then runs the tests.
    """

    def __init__(self, promtool: Promtool) -> None:
        self.promtool = promtool
        self._tmp = tempfile.TemporaryDirectory(prefix="tradewatch-prove-")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promtool-check")
        self._early: dict[int, tuple[dict[str, str], Future[ToolResult]]] = {}

    def __enter__(self) -> Proof:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)  # a check in flight ends within seconds; then its files go
        self._tmp.cleanup()

    def _place(self, index: int) -> Path:
        return Path(self._tmp.name) / str(index)

    def early(self, index: int, files: dict[str, str]) -> None:
        """Start checking the rule files among ``files``, the ``index``-th output's."""
        rules = {rel: files[rel] for rel in _rule_files(files)}
        if rules:
            paths = _stage(self._place(index), rules)
            self._early[index] = (rules, self._pool.submit(self.promtool.check_rules, paths))

    def finish(self, outputs: Sequence[Output], *, every_test: bool = False) -> list[str]:
        """promtool's objections to the outputs, with real paths; empty if it accepts them all."""
        judged = {i: (rules, future.result()) for i, (rules, future) in self._early.items()}
        staged = [(self._place(i), out) for i, out in enumerate(outputs)]
        for place, out in staged:
            _stage(place, out.files)

        def real(text: str) -> str:
            for place, out in staged:
                text = text.replace(f"{place}/", f"{out.root}/" if str(out.root) != "." else "")
            return text

        problems: list[str] = []
        unchecked: list[Path] = []
        for i, (place, out) in enumerate(staged):
            rules = {rel: out.files[rel] for rel in _rule_files(out.files)}
            if i in judged and judged[i][0] == rules:
                if not judged[i][1].ok:
                    problems.append(real(REFUSED + judged[i][1].message))
            else:
                unchecked += [place / rel for rel in rules]
        if unchecked:
            checked = self.promtool.check_rules(unchecked)
            if not checked.ok:
                problems.append(real(REFUSED + checked.message))
        if problems:
            return problems  # the tests would only repeat the rule files' errors
        tests = [place / rel for place, out in staged for rel in _test_files(out.files)
                 if every_test or _needs_test(out, rel)]
        if tests:
            try:
                tested = self.promtool.test_rules(tests, timeout=TEST_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append(f"promtool test rules ran longer than {TEST_TIMEOUT:.0f}s on the generated tests "
                                "and was stopped; shorten the longest windows or split the spec")
                return problems
            if not tested.ok:
                problems.extend(_explain_limits(tested.message, outputs))
                said = "\n".join(part for part in (tested.stdout.strip(), tested.stderr.strip()) if part)
                problems.append(real("promtool test rules failed on the generated tests:\n" + said))
        return problems


def _stage(place: Path, files: dict[str, str]) -> list[Path]:
    paths = []
    for rel, text in files.items():
        target = place / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        paths.append(target)
    return paths


def prove(outputs: Sequence[Output], promtool: Promtool, *, every_test: bool = False) -> list[str]:
    """promtool's objections to the outputs, with real paths; empty if it accepts them all."""
    with Proof(promtool) as proof:
        return proof.finish(outputs, every_test=every_test)


def _explain_limits(message: str, outputs: Sequence[Output]) -> list[str]:
    """Name the spec line of a window too long for promtool's unit tests to evaluate."""
    out: list[str] = []
    for match in _TOO_MANY.finditer(message):
        record = match.group("record")
        for o in outputs:
            for signal in o.spec.signals:
                if kinds.record_name(signal) == record:
                    window = getattr(signal.query, "window", "")
                    field = f"signals.{signal.name}.{type(signal.query).__name__.lower()}.window"
                    out.append(f"{o.spec_path}:{signal.line}: {field}: the {window} window is too "
                               "long for promtool's unit tests to evaluate (they load at most 10,000 samples per "
                               "query); shorten it")
    return out
