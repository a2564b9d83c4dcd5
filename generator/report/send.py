"""Sending a written report: by email through the spec's email receiver, to a webhook, and an info
notice "daily performance report ready" posted to Alertmanager so the spec's routing delivers it.

Secrets are read from the files the spec names (``auth_password_file``), never from the spec.

Example::

    send_email(spec, files, report)
    post_webhook("https://hooks.example/reports", report, paths)
    notify_alertmanager("http://127.0.0.1:9093", spec, report, paths)
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests

from generator.conventions import REPORT_READY_ALERT, REPORT_READY_SUMMARY
from generator.model import Receiver, Spec
from generator.report.build import Report
from generator.report.query import ReportError
from generator.report.render import HTML_NAME, PDF_NAME

TIMEOUT = 20.0


def email_receiver(spec: Spec, name: str | None) -> Receiver:
    found = [r for r in spec.notifications.receivers if r.kind == "email" and (not name or r.name == name)]
    if not found:
        which = f"email receiver named {name!r}" if name else "email receiver"
        raise ReportError(f"{spec.source}: notifications.receivers has no {which}; --email needs one")
    return found[0]


def _subject(report: Report) -> str:
    return f"{report.spec.title}: {REPORT_READY_SUMMARY} ({report.period.label()}): {report.verdict()}"


def send_email(spec: Spec, receiver_name: str | None, report: Report, files: dict[str, bytes],
               timeout: float = TIMEOUT) -> str:
    """Mail the PDF (and the HTML) to the receiver's ``to``; returns the address it went to."""
    receiver = email_receiver(spec, receiver_name)
    settings = dict(receiver.settings)
    host, _, port = settings["smarthost"].rpartition(":")
    msg = EmailMessage()
    msg["Subject"] = _subject(report)
    msg["From"] = settings["from"]
    msg["To"] = settings["to"]
    msg.set_content(f"The performance report of {report.spec.title} for {report.period.label()} is attached.\n"
                    f"Overall: {report.verdict()}; {len(report.spans)} alert episodes fired.\n")
    msg.add_attachment(files[PDF_NAME], maintype="application", subtype="pdf", filename=PDF_NAME)
    msg.add_attachment(files[HTML_NAME], maintype="text", subtype="html", filename=HTML_NAME)
    password = None
    if settings.get("auth_password_file"):
        path = Path(settings["auth_password_file"])
        try:
            password = path.read_text().strip()
        except OSError as exc:
            raise ReportError(f"{spec.source}: receiver {receiver.name}: cannot read auth_password_file "
                              f"{path}: {exc.strerror}") from None
    try:
        with smtplib.SMTP(host or settings["smarthost"], int(port or 25), timeout=timeout) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if password is not None:
                smtp.login(settings.get("auth_username", settings["from"]), password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        raise ReportError(f"cannot send the report by email through {settings['smarthost']} (receiver "
                          f"{receiver.name}): {exc}") from None
    return settings["to"]


def summary(report: Report, paths: list[Path]) -> dict[str, Any]:
    return {
        "spec": report.spec.name, "title": report.spec.title, "period": report.period.label(),
        "start": report.period.start, "end": report.period.end, "verdict": report.verdict(),
        "files": [str(p) for p in paths],
        "kpis": [{"signal": k.signal.name, "series": k.series, "verdict": k.verdict,
                  "stats": dict(k.stats)} for k in report.kpis],
        "alerts": [{"alert": s.alert, "severity": s.severity, "priority": s.priority, "start": s.start,
                    "end": s.end} for s in report.spans],
    }


def post_webhook(url: str, report: Report, paths: list[Path]) -> None:
    try:
        response = requests.post(url, json=summary(report, paths), timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ReportError(f"cannot post the report to the webhook {url}: {exc}") from None
    if not response.ok:
        raise ReportError(f"the webhook {url} refused the report: HTTP {response.status_code} "
                          f"{response.text[:200]}")


def notice(spec: Spec, report: Report, paths: list[Path], now: datetime | None = None) -> dict[str, Any]:
    """The info alert, labelled as the spec's own alerts are, so its routing (priority low) applies."""
    at = now or datetime.now(UTC)
    labels = {"alertname": REPORT_READY_ALERT, "severity": "info", "priority": "low", "job": spec.job,
              **dict(spec.labels)}
    return {
        "labels": labels,
        "annotations": {"summary": REPORT_READY_SUMMARY,
                        "description": f"{spec.title} report for {report.period.label()}: {report.verdict()}; "
                                       f"{len(report.spans)} alert episodes. Files: "
                                       + ", ".join(str(p) for p in paths)},
        "startsAt": at.isoformat(),
        # Resolves by itself: a notice, not a condition that someone must clear.
        "endsAt": (at + timedelta(hours=1)).isoformat(),
    }


def notify_alertmanager(url: str, spec: Spec, report: Report, paths: list[Path]) -> None:
    target = f"{url.rstrip('/')}/api/v2/alerts"
    try:
        response = requests.post(target, json=[notice(spec, report, paths)], timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ReportError(f"cannot post the report notice to Alertmanager at {url}: {exc}") from None
    if not response.ok:
        raise ReportError(f"Alertmanager at {url} refused the report notice: HTTP {response.status_code} "
                          f"{response.text[:200]}")
