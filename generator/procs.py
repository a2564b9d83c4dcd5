"""Start and stop the real servers (Prometheus, Alertmanager, Redis) on free loopback ports.

Used by ``make demo`` and by the tests; nothing here talks to anything but 127.0.0.1.

Example::

    with ManagedProcess.start(["redis-server", "--port", str(port)], ready=tcp_ready(port)) as p:
        ...
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import requests

# Ports handed out by this process, so two servers started in a row never get the same one.
_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    Chosen below the kernel's ephemeral range: a port from ``bind(0)`` comes from that range, where
    every outgoing connection on the machine also takes its local port, so between our check and the
    server's own bind a client socket could take it ("address already in use").
    """
    low = _ephemeral_low()
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(10000, max(low, 10001))
        if port in _HANDED_OUT:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        fallback: int = s.getsockname()[1]
        return fallback


def tcp_ready(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
        return False

    return check


def http_ready(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return requests.get(url, timeout=0.5).status_code == 200
        except requests.RequestException:
            return False

    return check


class ProcessError(RuntimeError):
    """A managed server exited or never became ready; carries the tail of its log."""


class ManagedProcess:
    """A child server process in its own process group, stopped (and reaped) on exit."""

    def __init__(self, argv: Sequence[str], proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.argv = list(argv)
        self.proc = proc
        self.log_path = log_path

    @classmethod
    def start(
        cls,
        argv: Sequence[str],
        *,
        ready: Callable[[], bool],
        log_path: Path,
        timeout: float = 20.0,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> ManagedProcess:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=cwd, env=env, start_new_session=True,
            )
        mp = cls(argv, proc, log_path)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ProcessError(f"{argv[0]} exited with {proc.returncode}:\n{mp.log_tail()}")
            if ready():
                return mp
            time.sleep(0.05)
        mp.stop()
        raise ProcessError(f"{argv[0]} not ready after {timeout:.0f}s:\n{mp.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def __enter__(self) -> ManagedProcess:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
