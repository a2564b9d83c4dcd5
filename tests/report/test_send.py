"""Sending a report: mail through a real SMTP server on loopback (the spec's email receiver, password
from its file), a webhook, and the info notice through a real Alertmanager with the spec's routing."""

from __future__ import annotations

import dataclasses
import email
import json
import threading
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from generator.cli import main
from generator.conventions import REPORT_READY_ALERT, REPORT_READY_SUMMARY
from generator.demo.receiver import AlertReceiver
from generator.demo.stack import LocalStack, quick
from generator.model import Spec
from generator.procs import free_port
from generator.report.query import ReportError
from generator.report.render import HTML_NAME, PDF_NAME
from generator.report.send import notify_alertmanager, post_webhook, send_email
from tests.conftest import ROOT
from tests.report.conftest import Written

pytestmark = pytest.mark.servers


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append((envelope, email.message_from_bytes(raw)))
        return "250 OK"


def _authenticator(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == b"reports" and data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticator,
                            auth_require_tls=False)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _with_email(spec: Spec, settings: dict[str, str]) -> Spec:
    receivers = tuple(dataclasses.replace(r, settings=tuple(settings.items())) if r.kind == "email" else r
                      for r in spec.notifications.receivers)
    return dataclasses.replace(spec, notifications=dataclasses.replace(spec.notifications, receivers=receivers))


def test_email_goes_through_the_spec_receiver_with_the_password_from_its_file(
        written: Written, default_spec: Spec, smtp: tuple[Inbox, int], tmp_path: Path) -> None:
    inbox, port = smtp
    secret = tmp_path / "smtp_password"
    secret.write_text("s3cret\n")
    spec = _with_email(default_spec, {"to": "desk@example.com", "from": "tw@example.com",
                                      "smarthost": f"127.0.0.1:{port}", "auth_username": "reports",
                                      "auth_password_file": str(secret)})
    assert send_email(spec, None, written.report, written.files) == "desk@example.com"
    ((envelope, message),) = inbox.messages
    assert envelope.rcpt_tos == ["desk@example.com"]
    assert REPORT_READY_SUMMARY in str(message["Subject"])
    attachments = {p.get_filename(): p.get_payload(decode=True) for p in message.walk() if p.get_filename()}
    assert attachments == {PDF_NAME: written.files[PDF_NAME], HTML_NAME: written.files[HTML_NAME]}


def test_a_wrong_password_is_a_clear_error(written: Written, default_spec: Spec, smtp: tuple[Inbox, int],
                                           tmp_path: Path) -> None:
    inbox, port = smtp
    secret = tmp_path / "smtp_password"
    secret.write_text("wrong")
    spec = _with_email(default_spec, {"to": "desk@example.com", "from": "tw@example.com",
                                      "smarthost": f"127.0.0.1:{port}", "auth_username": "reports",
                                      "auth_password_file": str(secret)})
    with pytest.raises(ReportError, match=rf"through 127.0.0.1:{port} \(receiver daily-review\)"):
        # smtplib tries each mechanism the server offers; a short timeout ends the last one sooner.
        send_email(spec, None, written.report, written.files, timeout=3)
    assert inbox.messages == []


def test_email_needs_an_email_receiver(written: Written, default_spec: Spec) -> None:
    spec = dataclasses.replace(default_spec, notifications=dataclasses.replace(
        default_spec.notifications,
        receivers=tuple(r for r in default_spec.notifications.receivers if r.kind != "email")))
    with pytest.raises(ReportError, match=r"notifications.receivers has no email receiver; --email needs one"):
        send_email(spec, None, written.report, written.files)


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_webhook_gets_the_summary(written: Written) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _Hook.received.clear()
        post_webhook(f"http://127.0.0.1:{server.server_address[1]}/reports", written.report,
                     [written.directory / HTML_NAME])
    finally:
        server.shutdown()
        server.server_close()
    (body,) = _Hook.received
    assert body["verdict"] == "critical threshold crossed"
    assert [a["alert"] for a in body["alerts"]] == [s.alert for s in written.report.spans]
    assert body["files"] == [str(written.directory / HTML_NAME)]


def test_notice_is_routed_by_the_spec_through_a_real_alertmanager(
        written: Written, default_spec: Spec, tmp_path: Path) -> None:
    spec = quick(default_spec)
    low = next(r.receivers for r in spec.notifications.routes if r.priority == "low")
    with AlertReceiver.serve("127.0.0.1", 0) as rx, LocalStack(tmp_path) as stack:
        (am,) = stack.start_alertmanagers(spec, receiver_url=rx.url)
        notify_alertmanager(am.url, spec, written.report, [written.directory / PDF_NAME])
        found = rx.wait_for(lambda d: d.alertname == REPORT_READY_ALERT, timeout=20)
    assert found, "the notice reached no receiver"
    assert {d.receiver for d in found} == set(low)
    assert found[0].labels["severity"] == "info"
    assert found[0].annotations["summary"] == REPORT_READY_SUMMARY
    assert str(written.directory / PDF_NAME) in found[0].annotations["description"]


def test_cli_writes_both_files_and_prints_their_paths(written: Written, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "daily"
    code = main(["report", str(ROOT / "tradewatch.yaml"), "--prometheus", written.day.url,
                 "--end", str(written.day.end), "--period", "24h", "--scrape-interval", "60s",
                 "--out", str(out)])
    printed = capsys.readouterr().out.split()
    assert code == 0
    assert printed == [str(out / HTML_NAME), str(out / PDF_NAME)]
    assert (out / PDF_NAME).read_bytes().startswith(b"%PDF")
    # The same period, spec and data make the same report.
    assert (out / HTML_NAME).read_bytes() == written.files[HTML_NAME]
