"""Fixtures that start real servers on loopback: a metrics source, the alert receiver, and the stack.

The rules and routing under test are generated from the default spec by the real emitters, with only
the timings pinned short (``stack.quick``): scrape and evaluation every second, ``group_wait`` 1s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.demo.receiver import AlertReceiver
from generator.demo.settable_metrics import PINNED_FOR, SettableMetrics, healthy
from generator.demo.stack import LocalStack, quick
from generator.generate import render
from generator.model import Spec


def fast(spec: Spec) -> Spec:
    return quick(spec, PINNED_FOR)


def receivers_of(spec: Spec, priority: str) -> list[str]:
    """The receivers the spec routes ``priority`` to, in the order it lists them."""
    return list(next(r.receivers for r in spec.notifications.routes if r.priority == priority))


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def rendered_tree(tmp_path: Path, default_spec: Spec) -> Path:
    """Every file ``tradewatch generate`` writes for the default spec, in a scratch directory."""
    return write_tree(tmp_path / "out", render(default_spec))


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[AlertReceiver]:
    with AlertReceiver.serve("127.0.0.1", 0, log_file=tmp_path / "alerts.log") as rx:
        yield rx


@pytest.fixture
def source() -> Iterator[SettableMetrics]:
    with SettableMetrics.serve() as s:
        healthy(s)
        yield s


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    with LocalStack(tmp_path / "stack") as s:
        yield s
