"""Play simulated traffic in real time: into the exporter in-process, or into Redis as the engine would.

Example::

    items = generate(scenario("tour"), rate=200, seed=1, start=time.time(), repeat=True)
    SimulatedSource(recorder, items).run(stop)           # tradewatch exporter --source simulate
    RedisWriter(url=..., stream=...).write(items, stop)  # tradewatch simulate
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Final

import redis

from exporters.events import Event
from exporters.metrics import Recorder
from exporters.redis_source import EVENT_FIELD, SNAPSHOT_CHANNEL, SNAPSHOT_PREFIX, Backoff, connect
from exporters.simulate import Item, Snapshot

log = logging.getLogger(__name__)

STREAM_MAXLEN: Final = 1_000_000
MAX_BATCH: Final = 1000
_EXISTS = "equal or smaller than the target stream top item"


def _due(item: Item) -> float:
    return item.ts if isinstance(item, Snapshot) else float(item["ts"])


def paced(
    items: Iterable[Item],
    stop: threading.Event,
    *,
    clock: Callable[[], float] = time.time,
    tick: float = 0.02,
) -> Iterator[list[Item]]:
    """Batches of the items that are due by ``clock``; ends at the last item or when ``stop`` is set.

    Waits at least ``tick`` at a time, so a high rate costs one wake-up per tick, not per event; a
    clock that returns inf makes everything due at once.
    """
    batch: list[Item] = []
    for item in items:
        due = _due(item)
        now = clock()
        if due > now:
            if batch:
                yield batch
                batch = []
            if stop.wait(max(due - now, tick)):
                return
        elif stop.is_set():
            return
        batch.append(item)
        if len(batch) >= MAX_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class SimulatedSource:
    """Feeds a Recorder from the simulator, in real time, with no Redis in between."""

    name: Final = "simulate"

    def __init__(
        self, recorder: Recorder, items: Iterable[Item], *, clock: Callable[[], float] = time.time
    ) -> None:
        self._recorder = recorder
        self._items = items
        self._clock = clock

    def run(self, stop: threading.Event) -> None:
        self._recorder.set_source_up(self.name, True)
        for batch in paced(self._items, stop, clock=self._clock):
            events: list[Event] = []
            for item in batch:
                if isinstance(item, Snapshot):
                    self._recorder.record_batch(events)
                    events = []
                    self._recorder.apply_snapshot(item.values)
                else:
                    events.append(item)
            self._recorder.record_batch(events)


class _StreamIds:
    """Explicit, increasing stream ids (ms-seq from the event's time), so that re-sending a batch after a
    lost reply is idempotent: Redis refuses an id it already has."""

    def __init__(self) -> None:
        self.last = (0, 0)

    def above(self, entry_id: bytes | str) -> None:
        ms, _, seq = (entry_id.decode() if isinstance(entry_id, bytes) else entry_id).partition("-")
        self.last = max(self.last, (int(ms), int(seq)))

    def next(self, ts: float) -> str:
        ms = int(ts * 1000)
        last_ms, last_seq = self.last
        self.last = (ms, 0) if ms > last_ms else (last_ms, last_seq + 1)
        return f"{self.last[0]}-{self.last[1]}"


class RedisWriter:
    """Writes items to Redis as the engine does: events to the stream, snapshots to dashboard:* keys.

    It must be the stream's only writer. While Redis is away it retries the same batch, with the same
    ids, with backoff, so when it ends ``written`` is exactly what the stream received.
    """

    def __init__(self, *, url: str, stream: str, backoff: Backoff | None = None) -> None:
        self._url = url
        self._stream = stream
        self._backoff = backoff or Backoff()
        self._ids = _StreamIds()
        self._client: redis.Redis | None = None
        self.written: Counter[str] = Counter()  # events by type, and trade:<status>, mev:<outcome>

    def write(self, items: Iterable[Item], stop: threading.Event, *, pace: bool = True) -> bool:
        """Write until the items end (True) or ``stop`` is set (False)."""
        clock = time.time if pace else (lambda: math.inf)
        try:
            for batch in paced(items, stop, clock=clock):
                if not self._send(batch, stop):
                    return False
            return not stop.is_set()
        finally:
            if self._client is not None:
                self._client.close()

    def _send(self, batch: list[Item], stop: threading.Event) -> bool:
        retry = False
        ids: list[str | None] = []
        while not stop.is_set():
            try:
                client = self._connected()
                # Assigned once, after the first connection has seen the stream's top id; a retry
                # re-sends the same ids.
                ids = ids or [None if isinstance(i, Snapshot) else self._ids.next(i["ts"]) for i in batch]
                pipe = client.pipeline(transaction=False)
                for item, entry_id in zip(batch, ids, strict=True):
                    if isinstance(item, Snapshot):
                        pipe.mset({SNAPSHOT_PREFIX + key: value for key, value in item.values.items()})
                        pipe.publish(SNAPSHOT_CHANNEL, "1")
                    else:
                        body = json.dumps(item, separators=(",", ":"))
                        pipe.xadd(self._stream, {EVENT_FIELD: body}, id=entry_id or "*",
                                  maxlen=STREAM_MAXLEN, approximate=True)
                for result in pipe.execute(raise_on_error=False):
                    # On a retry, "id too small" means the first attempt's write did land.
                    if isinstance(result, redis.ResponseError) and not (retry and _EXISTS in str(result)):
                        raise result
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                self._drop_client()
                retry = True
                delay = self._backoff.next()
                log.warning("redis unreachable (%s); retrying %d items in %.1fs", exc, len(batch), delay)
                stop.wait(delay)
                continue
            self._backoff.reset()
            for item in batch:
                if not isinstance(item, Snapshot):
                    self._tally(item)
            return True
        return False

    def _connected(self) -> redis.Redis:
        if self._client is None:
            client = connect(self._url)
            try:
                # Start above whatever the stream holds, so a refused id can only be our own re-send.
                self._ids.above(client.xinfo_stream(self._stream)["last-generated-id"])
            except redis.ResponseError as exc:
                if "no such key" not in str(exc):
                    raise
            self._client = client
        return self._client

    def _drop_client(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _tally(self, event: Event) -> None:
        kind = event["type"]
        self.written[kind] += 1
        if kind == "trade":
            self.written[f"trade:{event['status']}"] += 1
        elif kind == "mev":
            self.written[f"mev:{event['outcome']}"] += 1
