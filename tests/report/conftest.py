"""One day of synthetic data in a real Prometheus, and the report of it, shared by the report tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from generator.model import Spec
from generator.report.build import Report
from generator.report.commands import make_report
from generator.report.panels import Board, load_dashboards
from generator.report.query import Period
from generator.report.render import write
from tests.conftest import ROOT
from tests.report.dayofdata import MINUTES, STEP, Day, day_of_data


@dataclass(frozen=True)
class Written:
    day: Day
    period: Period
    boards: list[Board]
    report: Report
    files: dict[str, bytes]
    directory: Path


@pytest.fixture(scope="session")
def day(tmp_path_factory: pytest.TempPathFactory, default_spec: Spec) -> Iterator[Day]:
    # The last whole hour: recent enough for Prometheus' retention, and a multiple of the step.
    end = int(time.time()) // 3600 * 3600
    with day_of_data(default_spec, tmp_path_factory.mktemp("day"), end) as d:
        yield d


@pytest.fixture(scope="session")
def written(day: Day, default_spec: Spec, tmp_path_factory: pytest.TempPathFactory) -> Written:
    period = Period.between(day.start, day.end)
    assert (period.start, period.end, period.step) == (day.start, day.end, STEP)
    assert period.samples == MINUTES + 1
    boards = load_dashboards(ROOT / "dashboards")
    report, files = make_report(default_spec, boards, day.url, period, scrape_interval=STEP)
    directory = tmp_path_factory.mktemp("report")
    write(directory, files)
    return Written(day, period, boards, report, files, directory)
