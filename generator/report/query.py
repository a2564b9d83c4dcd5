"""Reading a real Prometheus over its HTTP API, with ``prometheus-api-client``.

Every failure (unreachable, a rejected query) becomes a ``ReportError`` whose message names the
server and the query, so the command prints one line and no traceback.

Example::

    source = Source("http://127.0.0.1:9090")
    period = Period.last(24 * 3600)
    for s in source.range('job:trade_latency:p99_5m', period):
        print(s.labels, s.values.max())
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from urllib3.util.retry import Retry

# A 24 h period at this many points is one a minute: as fine as the default spec's windows need.
POINTS = 1440


class ReportError(Exception):
    """Why no report could be written; ``str()`` is the whole message for the user."""


@dataclass(frozen=True)
class Period:
    """[start, end] in Unix seconds, both multiples of ``step``, so a range query and a PromQL subquery
    ``expr[range:step]`` evaluated at ``end`` read the very same instants."""

    start: float
    end: float
    step: float

    @classmethod
    def between(cls, start: float, end: float, points: int = POINTS) -> Period:
        if end <= start:
            raise ReportError(f"the period is empty: it ends ({iso(end)}) before it starts ({iso(start)})")
        step = float(max(1, math.ceil((end - start) / points)))
        return cls(math.ceil(start / step) * step, math.floor(end / step) * step, step)

    @classmethod
    def last(cls, seconds: float, now: float | None = None) -> Period:
        end = time.time() if now is None else now
        return cls.between(end - seconds, end)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def samples(self) -> int:
        return round(self.seconds / self.step) + 1

    def label(self) -> str:
        seconds = self.seconds < 3600  # a short period (the demo's) is told to the second
        return f"{iso(self.start, seconds)} to {iso(self.end, seconds)}"


def iso(t: float, seconds: bool = False) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Series:
    """One series of a range query: its labels, instants (Unix seconds) and values."""

    labels: dict[str, str]
    times: npt.NDArray[np.float64]
    values: npt.NDArray[np.float64]


class Source:
    """A Prometheus server; counts the queries it answers and the time they took (for the benchmark)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        # One quick retry: a daily job should ride out a blip, but an unreachable server is said at once.
        retry = Retry(total=1, backoff_factor=0.2, status_forcelist=[502, 503, 504])
        self._client = PrometheusConnect(url=self.url, disable_ssl=False, retry=retry, timeout=int(timeout))
        self.queries = 0
        self.query_seconds = 0.0

    def close(self) -> None:
        self._client.close()

    def _call(self, what: str, query: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            return fn()
        except requests.RequestException as exc:
            raise ReportError(f"Prometheus at {self.url} is unreachable: {type(exc).__name__}: "
                              f"{_first_line(str(exc))}") from None
        except PrometheusApiClientException as exc:
            raise ReportError(f"Prometheus at {self.url} rejected the {what} {query!r}: "
                              f"{_first_line(str(exc))}") from None
        except (ValueError, KeyError) as exc:
            raise ReportError(f"Prometheus at {self.url} answered the {what} {query!r} with something "
                              f"that is not its API's JSON: {exc}") from None
        finally:
            self.queries += 1
            self.query_seconds += time.perf_counter() - started

    def range(self, query: str, period: Period) -> list[Series]:
        """``query`` evaluated at every step of ``period``; NaN samples are dropped as Grafana does."""
        def fn() -> Any:
            return self._client.custom_query_range(
                query, start_time=datetime.fromtimestamp(period.start, UTC),
                end_time=datetime.fromtimestamp(period.end, UTC), step=f"{period.step:g}")
        result = self._call("range query", query, fn)
        out = []
        for item in result if isinstance(result, list) else []:
            pairs = np.array(item.get("values", []), dtype=np.float64).reshape(-1, 2)
            keep = ~np.isnan(pairs[:, 1])
            out.append(Series(dict(item.get("metric", {})), pairs[keep, 0], pairs[keep, 1]))
        return out

    def instant(self, query: str, at: float) -> list[tuple[dict[str, str], float]]:
        """``query`` evaluated at ``at``: (labels, value) per series."""
        def fn() -> Any:
            return self._client.custom_query(query, params={"time": f"{at:.3f}"})
        result = self._call("query", query, fn)
        return [(dict(item.get("metric", {})), float(item["value"][1]))
                for item in (result if isinstance(result, list) else [])]


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
