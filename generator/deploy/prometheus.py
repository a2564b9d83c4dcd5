"""Rule files into a Prometheus rule directory, then ``POST /-/reload``, then proof they loaded.

Prometheus has no rule-write API: its ``rule_files`` glob reads a directory. Deploy owns the files
named ``tradewatch-<spec>-*.rules.yml`` there and nothing else. Each file is written atomically
(temporary file + rename in the same directory). If Prometheus rejects the reload, deploy puts the
previous files back, reloads again, and fails with Prometheus' own message, so the directory never
holds rules the running Prometheus refused (and a restart would trip on).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator.deploy.errors import ConfigError, DeployError, RejectedError
from generator.deploy.http import HttpClient, server_message
from generator.deploy.plan import Change, Section, Step, plural, unified
from generator.tools import Promtool, ToolNotFound
from generator.writer import write_atomic

TARGET = "Prometheus"
LIFECYCLE_OFF = ("Prometheus at {url} was started without --web.enable-lifecycle, so it refuses the reload "
                 "that makes new rule files take effect; restart it with that flag (or reload it yourself "
                 "and deploy with --evaluator none)")
_RELOAD_OK = re.compile(r"^prometheus_config_last_reload_successful(?:\{[^}]*\})? (\S+)$", re.MULTILINE)


def rule_names(texts: Sequence[str]) -> set[tuple[str, str]]:
    """(group, rule name) of every rule in the rule-file texts."""
    out: set[tuple[str, str]] = set()
    for text in texts:
        for group in (yaml.safe_load(text) or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                out.add((str(group["name"]), str(rule.get("record") or rule.get("alert"))))
    return out


@dataclass
class PrometheusRules:
    """Plans and applies the rule files of one spec in one Prometheus rule directory."""

    http: HttpClient
    rule_dir: Path
    prefix: str
    prune: bool
    verify_timeout: float = 5.0
    _previous: dict[Path, str | None] = field(default_factory=dict)

    def plan(self, files: Sequence[tuple[str, str]]) -> Section:
        if not self.rule_dir.is_dir():
            raise ConfigError(f"Prometheus rule directory {self.rule_dir} does not exist")
        section = Section(f"Prometheus {self.http.base_url}, rule directory {self.rule_dir}", first=True)
        wanted = {self.prefix + Path(path).name: text for path, text in files}
        present = {p.name: p for p in sorted(self.rule_dir.glob(self.prefix + "*"))
                   if p.is_file() and p.suffix in (".yml", ".yaml")}
        writes: list[tuple[Change, Path, str | None]] = []
        for name, text in wanted.items():
            path = self.rule_dir / name
            if name not in present:
                change = Change(TARGET, "rule file", name, "create",
                                detail=plural(len(rule_names([text])), "rule"))
            else:
                old = present[name].read_text(encoding="utf-8")
                if old == text:
                    section.changes.append(Change(TARGET, "rule file", name, "unchanged"))
                    continue
                change = Change(TARGET, "rule file", name, "update", unified(old, text, name))
            section.changes.append(change)
            writes.append((change, path, text))
        for name in sorted(set(present) - set(wanted)):
            if not self.prune:
                section.changes.append(Change(TARGET, "rule file", name, "would-delete",
                                              detail="no longer generated"))
                continue
            change = Change(TARGET, "rule file", name, "delete")
            section.changes.append(change)
            writes.append((change, present[name], None))

        expected = rule_names(list(wanted.values()))
        missing = expected - self._loaded()
        if not self._last_reload_ok():
            section.notes.append("Prometheus reports its last reload failed (prometheus_config_last_reload_"
                                 "successful 0); deploy reloads and shows its message")
        if writes or missing:
            self._check_reload_enabled()
            changes = tuple(c for c, _, _ in writes)
            if not writes:
                reload = Change(TARGET, "reload", self.http.base_url, "update",
                                detail=f"{len(missing)} generated rules are on disk but not loaded")
                section.changes.append(reload)
                changes = (reload,)
            section.steps.append(Step("prometheus", changes, lambda: self._apply(writes, expected), gate=True))
        return section

    def _check_reload_enabled(self) -> None:
        """Before anything is written anywhere: can deploy reload this Prometheus at all?"""
        flags = self.http.object("GET", "/api/v1/status/flags").get("data") or {}
        if str(flags.get("web.enable-lifecycle", "true")).lower() == "false":
            raise ConfigError(LIFECYCLE_OFF.format(url=self.http.base_url))

    def _loaded(self) -> set[tuple[str, str]]:
        data = self.http.object("GET", "/api/v1/rules")
        return {(str(g.get("name")), str(r.get("name")))
                for g in data.get("data", {}).get("groups", []) for r in g.get("rules", [])}

    def _last_reload_ok(self) -> bool:
        match = _RELOAD_OK.search(self.http.request("GET", "/metrics", headers={"Accept": "text/plain"}).text)
        return match is None or float(match.group(1)) == 1.0

    def _apply(self, writes: list[tuple[Change, Path, str | None]], expected: set[tuple[str, str]]) -> str:
        self._previous = {}
        try:
            for _, path, text in writes:
                self._previous[path] = path.read_text(encoding="utf-8") if path.exists() else None
                if text is None:
                    path.unlink()
                else:
                    write_atomic(path, text)
            self._reload()
        except RejectedError as exc:
            self._rollback()
            raise RejectedError(f"{exc}\nNothing changed: the previous rule files are back in "
                                f"{self.rule_dir} and Prometheus keeps the rules it had.") from None
        except BaseException:
            self._rollback()
            raise
        self._verify(expected)
        return f"reloaded; {len(expected)} generated rules loaded"

    def _reload(self) -> None:
        # 500 carries Prometheus' own reason: final, so not retried.
        response = self.http.request("POST", "/-/reload", expect=(200, 403, 500))
        if response.status_code == 403:
            raise RejectedError(LIFECYCLE_OFF.format(url=self.http.base_url)
                                + f" (it answered 403 {server_message(response)})")
        if response.status_code != 200:
            raise RejectedError(f"Prometheus rejected the rule files: {server_message(response, 2000)}"
                                + self._diagnosis())
        if not self._last_reload_ok():
            raise RejectedError("Prometheus reports prometheus_config_last_reload_successful 0 "
                                "after the reload")

    def _diagnosis(self) -> str:
        """Why, in promtool's words: Prometheus' reload answer names only its config file, the
        reason is in its log, which deploy cannot read; promtool runs the same parser locally."""
        files = sorted(p for p in self.rule_dir.glob(self.prefix + "*") if p.suffix in (".yml", ".yaml"))
        try:
            result = Promtool.find().check_rules(files)
        except (ToolNotFound, OSError, subprocess.SubprocessError):
            return " (install promtool to see which rule is wrong; Prometheus' log says it too)"
        return f"\npromtool check rules says:\n{result.stderr.strip() or result.message}" if not result.ok else ""

    def _rollback(self) -> None:
        for path, text in self._previous.items():
            if text is None:
                path.unlink(missing_ok=True)
            else:
                write_atomic(path, text)
        if self._previous:
            # The original failure is the one to report.
            with contextlib.suppress(DeployError):
                self.http.request("POST", "/-/reload", expect=(200, 500))
        self._previous = {}

    def _verify(self, expected: set[tuple[str, str]]) -> None:
        deadline = time.monotonic() + self.verify_timeout
        while True:
            missing = expected - self._loaded()
            if not missing:
                return
            if time.monotonic() >= deadline:
                sample = ", ".join(f"{g}/{r}" for g, r in sorted(missing)[:3])
                raise DeployError(
                    f"Prometheus reloaded but does not list {len(missing)} generated rules ({sample}...): "
                    f"does its rule_files glob cover {self.rule_dir}/{self.prefix}*.rules.yml?")
            time.sleep(0.1)
