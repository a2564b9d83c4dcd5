"""YAML parsed into plain data plus the line and column of every key and item.

PyYAML's composer keeps marks on nodes; we build the data ourselves from the node tree so each
value's position survives, and so duplicate keys are errors instead of silent overwrites.

A spec is untrusted text, so reading it is bounded: bytes that are not UTF-8, nesting deeper than
``MAX_DEPTH``, tags YAML's core schema does not define and aliases that would expand the document
past ``MAX_VALUES`` values ("billion laughs") each stop the parse with one error at their line,
before any of them can cost more than a moment or a few megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.events import AliasEvent

from generator.errors import SpecError, SpecErrors, YamlPath, format_path

# Deeper than any real spec (about 8 levels) and far below Python's recursion limit.
MAX_DEPTH = 64
# Values the document may expand to once aliases are followed: real specs have a few thousand.
MAX_VALUES = 200_000
MAX_BYTES = 16 * 2**20
_CORE = "tag:yaml.org,2002:"
_STR = _CORE + "str"
# The tags a spec's values may carry: YAML's core schema, which is what the JSON Schema checks.
ALLOWED_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "map", "seq"))


class _LimitError(yaml.composer.ComposerError):
    """The document passed one of the bounds above."""


class _Bounds:
    """A depth limit and an alias expansion budget on PyYAML's composer."""

    def __init__(self, text: str) -> None:
        super().__init__(text)  # type: ignore[call-arg]
        self._depth = 0
        self._expanded = 0
        self._sizes: dict[int, int] = {}

    def _mark(self) -> Any:
        event: yaml.Event = self.peek_event()  # type: ignore[attr-defined]
        return event.start_mark

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(AliasEvent):  # type: ignore[attr-defined]
            mark = self._mark()
            node: yaml.Node | None = super().compose_node(parent, index)  # type: ignore[misc]
            self._expanded += _size(node, self._sizes) if node is not None else 0
            if self._expanded > MAX_VALUES:
                raise _LimitError(
                    None, None, f"aliases expand the spec past {MAX_VALUES:,} values; "
                    "write the repeated part out or alias smaller pieces", mark)
            return node
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _LimitError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", self._mark())
            node = super().compose_node(parent, index)  # type: ignore[misc]
        finally:
            self._depth -= 1
        return node


class _PureLoader(_Bounds, yaml.SafeLoader):
    """PyYAML's reader, scanner, parser and composer, all in Python: the reference, whose words
    every syntax error is reported in."""


_FastLoader: type | None = None
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _LibyamlEvents(yaml.composer.Composer, CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """PyYAML's composer over libyaml's events: the same nodes, marks and tags, and scanning
        and parsing in C, several times faster on a spec of a thousand alerts."""

        def __init__(self, text: str) -> None:
            CParser.__init__(self, text)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

    class _CLoader(_Bounds, _LibyamlEvents):
        pass

    _FastLoader = _CLoader


def _compose(text: str) -> yaml.Node | None:
    """The document's node tree, within the bounds; libyaml parses it when it can, and a text it
    refuses goes through PyYAML's pure reader and parser, so the error is PyYAML's, as before."""
    if _FastLoader is not None and not yaml.reader.Reader.NON_PRINTABLE.search(text):
        fast = _FastLoader(text)
        try:
            node: yaml.Node | None = fast.get_single_node()
            return node
        except _LimitError:
            raise
        except yaml.YAMLError:
            pass  # said again below, in PyYAML's words
        finally:
            fast.dispose()
    pure = _PureLoader(text)
    try:
        node = pure.get_single_node()
        return node
    finally:
        pure.dispose()


def _size(node: yaml.Node, memo: dict[int, int]) -> int:
    """Values under ``node`` with every alias followed (memoised, so shared nodes cost once)."""
    known = memo.get(id(node))
    if known is not None:
        return known
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_size(item, memo) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_size(k, memo) + _size(v, memo) for k, v in node.value)
    memo[id(node)] = total
    return total


def decode(raw: bytes, file: str) -> str:
    """UTF-8 bytes as text; anything else is one error naming the line and column of the bad byte."""
    if len(raw) > MAX_BYTES:
        raise SpecErrors([SpecError(file, 1, 1, "(file)", f"the spec is larger than {MAX_BYTES // 2**20} MiB")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise SpecErrors([SpecError(file, line, column, "(encoding)",
                                    f"byte 0x{raw[exc.start]:02x} is not UTF-8; save the spec as UTF-8")]) from None


@dataclass
class Located:
    """Parsed data and where each part of it stands in the file."""

    file: str
    data: Any
    marks: dict[YamlPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: YamlPath) -> tuple[int, int]:
        """Line and column (1-based) of ``path``, or of its nearest ancestor that has one."""
        while path not in self.marks and path:
            path = path[:-1]
        return self.marks.get(path, (1, 1))

    def error(self, path: YamlPath, message: str) -> SpecError:
        line, col = self.where(path)
        return SpecError(self.file, line, col, format_path(path), message)


def parse(text: str, file: str) -> Located:
    """Parse YAML text; syntax errors and duplicate keys raise SpecErrors with their position."""
    if len(text) > MAX_BYTES:
        raise SpecErrors([SpecError(file, 1, 1, "(file)", f"the spec is larger than {MAX_BYTES // 2**20} MiB")])
    try:
        node = _compose(text)
    except _LimitError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise SpecErrors([SpecError(file, line, col, "(limits)", str(exc.problem))]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {exc.problem}"
        if exc.context and exc.context_mark:
            # "expected '}'" at the end of the file helps little; say where the open construct began.
            message += f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
        raise SpecErrors([SpecError(file, line, col, "(syntax)", message)]) from None
    except yaml.reader.ReaderError as exc:  # a control character the YAML spec forbids
        before = text[: exc.position]
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise SpecErrors([SpecError(file, line, col, "(syntax)",
                                    f"YAML syntax error: control character U+{code:04X} is not allowed")]) from None
    located = Located(file, None)
    if node is None:
        raise SpecErrors([SpecError(file, 1, 1, "(top level)", "the spec is empty")])
    errors: list[SpecError] = []
    constructor = yaml.SafeLoader("")
    located.data = _build(node, (), located, constructor, errors)
    if errors:
        raise SpecErrors(errors)
    return located


def _build(node: yaml.Node, path: YamlPath, located: Located, ctor: yaml.SafeLoader,
           errors: list[SpecError]) -> Any:
    located.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if node.tag not in ALLOWED_TAGS:
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        errors.append(SpecError(located.file, line, col, format_path(path),
                                f"unknown YAML tag {node.tag!r}: a spec holds plain strings, numbers, "
                                "booleans, lists and mappings"))
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, located, ctor, errors) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float | bool):
                errors.append(located.error(path, "keys must be plain scalars"))
                continue
            key_path = (*path, str(key))
            mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in out:
                first = located.marks[key_path]
                errors.append(SpecError(located.file, mark[0], mark[1], format_path(key_path),
                                        f"duplicate key (first at line {first[0]})"))
                continue
            located.marks[key_path] = mark
            out[str(key) if not isinstance(key, str) else key] = _build(
                value_node, key_path, located, ctor, errors)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), located, ctor, errors) for i, item in enumerate(node.value)]
    return _scalar(node, located, ctor, errors)


def _scalar(node: yaml.Node, located: Located, ctor: yaml.SafeLoader, errors: list[SpecError]) -> Any:
    if node.tag not in ALLOWED_TAGS:
        return None  # reported by _build where the node is a value
    if node.tag == _STR:
        return node.value  # what SafeConstructor makes of a string, without its per-node bookkeeping
    try:
        return ctor.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError):  # an explicit tag that does not fit: !!int abc
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        errors.append(SpecError(located.file, line, col, "(syntax)", f"{node.value!r} does not fit its tag {node.tag}"))
        return None
