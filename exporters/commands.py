"""``tradewatch exporter`` and ``tradewatch simulate``: flags, their TRADEWATCH_* env twins, and the wiring.

A flag given on the command line wins over its environment variable, which wins over the default.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, start_http_server

from exporters.catalogue import DEFAULT_PORT
from exporters.metrics import DEFAULT_MAX_PAIRS, Recorder
from exporters.simulate import PHASES, SCENARIOS, describe, generate, name_of, scenario
from generator.options import (
    Option,
    OptionError,
    add_arguments,
    boolean,
    choice,
    count,
    integer,
    name,
    positive_float,
    resolve,
)

if TYPE_CHECKING:
    from exporters.redis_source import RedisSource
    from exporters.simulate_io import SimulatedSource

# The Redis client is imported by the commands that use it: every tradewatch command registers
# these, and importing it cost a tenth of a second each time.

log = logging.getLogger("tradewatch.exporter")


# --- option parsing: each parser raises ValueError with a message that reads after the option name ---

def parse_listen(text: str, default_host: str = "0.0.0.0") -> tuple[str, int]:
    """``[HOST]:PORT`` -> (host, port); ValueError naming what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"must be [HOST]:PORT with a port from 1 to 65535, got {text!r}")
    return host.strip("[]") or default_host, int(port)


def _redis_url(text: str) -> str:
    if urlsplit(text).scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"must be a redis://, rediss:// or unix:// URL, got {text!r}")
    return text


def _opt(flag: str, parse: Callable[[str], Any], default: str, help: str, metavar: str = "") -> Option:
    """An option whose env twin is TRADEWATCH_<FLAG>; these commands read no settings file."""
    dest = flag.removeprefix("--").replace("-", "_")
    return Option(dest, flag, "TRADEWATCH_" + dest.upper(), (), help, parse, default,
                  boolean=parse is boolean, metavar=metavar, negatable=False)


_REDIS_URL = _opt("--redis-url", _redis_url, "redis://127.0.0.1:6379/0", "Redis to read from / write to")
_STREAM = _opt("--stream", name, "tradewatch:events",
               "Redis stream of trade events; rejected ones are parked in <stream>:dead")
_SCENARIO = _opt("--scenario", scenario, "tour",
                 "simulated scenario: a name (see below) or a timeline 'normal 60s, failure_burst 2m'")
_RATE = _opt("--rate", positive_float, "200", "simulated events per second (plus ~2/s of status events)")
_SEED = _opt("--seed", integer, "1", "random seed of the simulation; the same seed gives the same events")
_LOG_LEVEL = _opt("--log-level", choice("debug", "info", "warning", "error"), "info", "log verbosity",
                  "{debug,info,warning,error}")

_EXPORTER_OPTIONS = (
    _opt("--source", choice("redis", "simulate"), "redis",
            "where events come from: the engine's Redis stream, or the built-in simulator (no Redis needed)",
            "{redis,simulate}"),
    _REDIS_URL,
    _opt("--listen", parse_listen, f":{DEFAULT_PORT}", "address to serve /metrics on, [HOST]:PORT"),
    _STREAM,
    _opt("--group", name, "tradewatch", "consumer group the exporter reads the stream through"),
    _opt("--consumer", name, "exporter",
            "consumer name within the group; keep it stable across restarts so unacknowledged events are "
            "re-delivered to it, and distinct per exporter replica"),
    _opt("--max-pairs", count, str(DEFAULT_MAX_PAIRS),
            "token pairs published by name; pairs seen after that many are published as pair=\"other\""),
    _SCENARIO,
    _RATE,
    _SEED,
    _LOG_LEVEL,
)
_SIMULATE_OPTIONS = (
    _REDIS_URL,
    _STREAM,
    _SCENARIO,
    _RATE,
    _SEED,
    _opt("--loop", boolean, "false", "repeat the scenario until stopped"),
    _opt("--fast", boolean, "false",
            "write as fast as Redis takes it instead of in real time (events keep their simulated times)"),
    _LOG_LEVEL,
)


_ENV_NOTE = "Every option can also be set by the environment variable named beside it; the command line wins."


def _paragraphs(*texts: str) -> str:
    return "\n\n".join(textwrap.fill(text, width=100) for text in texts)


def register(subparsers: Any) -> None:
    named = (
        textwrap.fill(describe(t), width=100, initial_indent=f"  {name:20} ", subsequent_indent=" " * 23)
        for name, t in SCENARIOS.items()
    )
    phases = textwrap.fill(f"phases: {', '.join(PHASES)}", width=100)
    scenarios = f"{phases}\n\nnamed scenarios:\n" + "\n".join(named)
    exporter = subparsers.add_parser(
        "exporter", help="serve the trading metrics on /metrics, from the engine's Redis or the simulator",
        description=_paragraphs(
            "Prometheus exporter for the trading metrics no off-the-shelf exporter has: trades, latencies, "
            "MEV outcomes, the circuit breaker. Reads the engine's trade-event stream "
            "(exporters/trade_event.schema.json) and dashboard:* snapshot keys from Redis, or runs the "
            "simulator in-process. SIGTERM stops it cleanly.",
            _ENV_NOTE),
        epilog=scenarios, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(exporter, _EXPORTER_OPTIONS, show_default=True)
    exporter.set_defaults(func=_with_options(_EXPORTER_OPTIONS, run_exporter))

    simulate = subparsers.add_parser(
        "simulate", help="write simulated trade events and dashboard snapshots to Redis, as the engine would",
        description=_paragraphs(
            "Writes realistic trade events to the Redis stream and dashboard:* snapshots, following a "
            "scenario that drives each alert of the default spec across its threshold and back. It must be "
            "the stream's only writer. Prints what it wrote, as JSON, when it ends or is stopped.",
            _ENV_NOTE),
        epilog=scenarios, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(simulate, _SIMULATE_OPTIONS, show_default=True)
    simulate.set_defaults(func=_with_options(_SIMULATE_OPTIONS, run_simulate))


def _with_options(
    options: Sequence[Option], handler: Callable[[argparse.Namespace], int]
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            vars(args).update(resolve(options, vars(args), os.environ).values)
        except OptionError as exc:
            print(f"tradewatch {args.command}: error: {exc}", file=sys.stderr)
            return 2
        logging.basicConfig(level=args.log_level.upper(),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        return handler(args)

    return run


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``; the previous handlers come back afterwards."""
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_exporter(args: argparse.Namespace) -> int:
    from exporters.redis_source import RedisSource
    from exporters.simulate_io import SimulatedSource

    recorder = Recorder(max_pairs=args.max_pairs, sources=(args.source,))
    registry = CollectorRegistry()
    registry.register(recorder)
    source: RedisSource | SimulatedSource
    if args.source == "redis":
        source = RedisSource(recorder, url=args.redis_url, stream=args.stream, group=args.group,
                             consumer=args.consumer)
        origin = f"stream {args.stream} of {_redacted(args.redis_url)}"
    else:
        items = generate(args.scenario, rate=args.rate, seed=args.seed, start=time.time(), repeat=True)
        source = SimulatedSource(recorder, items)
        origin = f"the simulator (scenario {name_of(args.scenario)}, repeated; {args.rate:g} events/s)"

    host, port = args.listen
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        print(f"tradewatch exporter: error: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    stop = threading.Event()
    worker = threading.Thread(target=source.run, args=(stop,), name=f"source-{args.source}", daemon=True)
    try:
        with stop_on_signals(stop):
            worker.start()
            log.info("serving /metrics on http://%s:%d/metrics from %s", host, port, origin)
            while not stop.wait(0.5):
                if not worker.is_alive():
                    log.error("the %s source stopped unexpectedly; exiting", args.source)
                    return 1
            # Let the source finish the batch in hand: it acknowledges only what it has counted.
            worker.join(timeout=15)
            if worker.is_alive():
                log.error("the %s source did not stop within 15 s", args.source)
                return 1
            log.info("stopped")
            return 0
    finally:
        server.shutdown()
        server.server_close()


def run_simulate(args: argparse.Namespace) -> int:
    import redis

    from exporters.simulate_io import RedisWriter

    writer = RedisWriter(url=args.redis_url, stream=args.stream)
    items = generate(args.scenario, rate=args.rate, seed=args.seed, start=time.time(), repeat=args.loop)
    stop = threading.Event()
    log.info("writing scenario %s%s to stream %s of %s at %g events/s%s", name_of(args.scenario),
             " (repeated)" if args.loop else "", args.stream, _redacted(args.redis_url), args.rate,
             ", as fast as possible" if args.fast else "")
    try:
        with stop_on_signals(stop):
            finished = writer.write(items, stop, pace=not args.fast)
    except redis.RedisError as exc:
        print(f"tradewatch simulate: error: {exc}", file=sys.stderr)
        return 1
    events = sum(n for key, n in writer.written.items() if ":" not in key)
    summary = {"finished": finished, "events_written": events, "written": dict(writer.written)}
    print(json.dumps(summary, sort_keys=True))
    return 0


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=f"{parts.username or ''}:***@{parts.hostname}:{parts.port or 6379}").geturl()

