"""Typed wrappers around the version-exact judges of our output: promtool and amtool.

There is no promtool wrapper on PyPI; this finds the binaries (``scripts/setup.sh`` installs them
from Debian's ``prometheus`` and ``prometheus-alertmanager`` packages), runs them, and returns
structured results that carry the tool's own message when it fails.

Example::

    result = Promtool.find().check_rules([Path("alert_rules/latency.rules.yml")])
    if not result.ok:
        print(result.message)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class ToolNotFound(RuntimeError):
    """A required binary is not installed; the message says how to get it."""


@dataclass(frozen=True)
class ToolResult:
    """What one run of promtool or amtool said."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def message(self) -> str:
        """The tool's own words, stderr first, for an error report."""
        return "\n".join(part for part in (self.stderr.strip(), self.stdout.strip()) if part)


def find_binary(name: str, env_var: str, package: str) -> str:
    """Path to ``name``: ``$env_var`` if set, else PATH; a clear error if neither has it."""
    override = os.environ.get(env_var)
    if override:
        if not os.access(override, os.X_OK):
            raise ToolNotFound(f"{env_var}={override} is not an executable file")
        return override
    found = shutil.which(name)
    if found is None:
        raise ToolNotFound(
            f"{name} not found on PATH; install the Debian package {package!r} "
            f"(scripts/setup.sh does) or set {env_var}"
        )
    return found


def _run(argv: Sequence[str], *, stdin: str | None = None, cwd: Path | None = None,
         timeout: float = 120) -> ToolResult:
    proc = subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, cwd=cwd, timeout=timeout, check=False
    )
    return ToolResult(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


@dataclass(frozen=True)
class Promtool:
    """promtool, found once."""

    path: str

    @classmethod
    def find(cls) -> Promtool:
        return cls(find_binary("promtool", "TRADEWATCH_PROMTOOL", "prometheus"))

    def check_rules(self, files: Sequence[Path]) -> ToolResult:
        return _run([self.path, "check", "rules", *map(str, files)])

    def test_rules(self, files: Sequence[Path], cwd: Path | None = None, timeout: float = 120) -> ToolResult:
        return _run([self.path, "test", "rules", *map(str, files)], cwd=cwd, timeout=timeout)

    def check_config(self, config: Path, *, syntax_only: bool = False) -> ToolResult:
        extra = ["--syntax-only"] if syntax_only else []
        return _run([self.path, "check", "config", *extra, str(config)])

    def check_metrics(self, exposition: str) -> ToolResult:
        """Lint a /metrics text body (promtool reads it on stdin)."""
        return _run([self.path, "check", "metrics"], stdin=exposition)


@dataclass(frozen=True)
class Amtool:
    """amtool, found once."""

    path: str

    @classmethod
    def find(cls) -> Amtool:
        return cls(find_binary("amtool", "TRADEWATCH_AMTOOL", "prometheus-alertmanager"))

    def check_config(self, config: Path) -> ToolResult:
        return _run([self.path, "check-config", str(config)])

    def routes_test(self, config: Path, labels: dict[str, str]) -> ToolResult:
        """Which receivers an alert with these labels reaches (stdout: comma-separated names)."""
        pairs = [f"{k}={v}" for k, v in sorted(labels.items())]
        return _run([self.path, "config", "routes", "test", f"--config.file={config}", *pairs])
