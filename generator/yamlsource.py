"""YAML parsed into plain data plus the line and column of every key and item.

PyYAML's composer keeps marks on nodes; we build the data ourselves from the node tree so each
value's position survives, and so duplicate keys are errors instead of silent overwrites.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from generator.errors import SpecError, SpecErrors, YamlPath, format_path


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
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax error: {exc.problem}"
        if exc.context and exc.context_mark:
            # "expected '}'" at the end of the file helps little; say where the open construct began.
            message += f" ({exc.context} that starts at line {exc.context_mark.line + 1})"
        raise SpecErrors([SpecError(file, line, col, "(syntax)", message)]) from None
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
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
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
    return ctor.construct_object(node, deep=True)
