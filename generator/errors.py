"""Errors in a spec, each pinned to file, line and YAML path, collected rather than raised one by one.

Example::

    tradewatch.yaml:88:7: alerts.TradeFailureRateHigh.tiers.warning.above: '5 %' is not a quantity
"""

from __future__ import annotations

from dataclasses import dataclass

YamlPath = tuple[str | int, ...]


def format_path(path: YamlPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True, order=True)
class SpecError:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


class SpecErrors(Exception):
    """Every problem found in a spec; ``str()`` lists them one per line, in file order."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = sorted(set(errors))
        super().__init__("\n".join(map(str, self.errors)))
