"""``tradewatch demo`` and ``tradewatch alert-log``."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from exporters.commands import parse_listen, stop_on_signals
from generator.demo.receiver import AlertReceiver, Delivery


def _host_port(text: str) -> tuple[str, int]:
    try:
        return parse_listen(text, default_host="127.0.0.1")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    register_demo(sub)
    register_alert_log(sub)


def register_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser(
        "demo", help="run the whole system on loopback and watch alerts fire and resolve",
        description="Start the exporter with its simulator, a real Prometheus and Alertmanager (from "
        "the Debian packages, no Docker) on free loopback ports with the rules and routing generated "
        "from the spec, and a webhook receiver; play a scenario (breaker opens, node latency spike, "
        "MEV wave, recovery) and print each alert going pending -> firing -> resolved and each "
        "notification. Ends by itself in under 3 minutes, or on Ctrl-C; leaves no process behind.")
    d.add_argument("--spec", type=Path, default=Path("tradewatch.yaml"),
                   help="threshold spec (default: %(default)s)")
    d.add_argument("--scenario", default=None, help="simulator scenario (default: the demo's own)")
    d.add_argument("--keep", action="store_true", help="keep the temporary directory (configs, logs, data)")
    d.add_argument("--report-dir", type=Path, default=Path(".demo/report"), metavar="DIR",
                   help="where the report of the run is written (default: %(default)s)")
    d.set_defaults(func=cmd_demo)


def register_alert_log(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``alert-log`` needs nothing beyond the standard library: the exporter image runs it too."""
    a = sub.add_parser(
        "alert-log", help="receive Alertmanager webhooks; log each alert to the console and a rotating file",
        description="An Alertmanager webhook receiver: every alert of every notification is printed and "
        "appended to a log file rotated by size. The spec's `webhook` receiver points here.")
    a.add_argument("--listen", type=_host_port, default=("127.0.0.1", 9099), metavar="HOST:PORT",
                   help="address to listen on (default: 127.0.0.1:9099)")
    a.add_argument("--log-file", type=Path, default=Path("alerts.log"),
                   help="log file (default: %(default)s)")
    a.add_argument("--max-bytes", type=int, default=1_000_000,
                   help="rotate the log at this size (default: %(default)s)")
    a.add_argument("--backups", type=int, default=5, help="rotated files to keep (default: %(default)s)")
    a.set_defaults(func=cmd_alert_log)


def cmd_demo(args: argparse.Namespace) -> int:
    from generator.demo.run import run_demo

    code: int = run_demo(args.spec, scenario_text=args.scenario, keep=args.keep, report_dir=args.report_dir)
    return code


def cmd_alert_log(args: argparse.Namespace) -> int:
    def show(d: Delivery) -> None:
        print(d.line(), flush=True)

    host, port = args.listen
    stop = threading.Event()
    try:
        with stop_on_signals(stop), AlertReceiver.serve(host, port, log_file=args.log_file, on_delivery=show,
                                                        max_bytes=args.max_bytes, backups=args.backups) as rx:
            print(f"alert-log: listening on {rx.url}, logging to {args.log_file}", file=sys.stderr, flush=True)
            stop.wait()
    except OSError as exc:
        print(f"alert-log: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0
