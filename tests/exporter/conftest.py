from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from exporters.metrics import Recorder
from tests.exporter.helpers import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.dir.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder(max_pairs=3, sources=("redis",))


@pytest.fixture
def registry(recorder: Recorder) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(recorder)
    return registry
