"""A ``Report`` as a self-contained HTML page (images inlined as data URIs) and as a PDF of the same.

Example::

    files = render(report)          # {"report.html": b"...", "report.pdf": b"..."}
    write(Path("reports/2026-11-29"), files)
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import os
import tempfile
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from generator.humanize import humanize_duration
from generator.report.build import Report
from generator.report.plot import to_png
from generator.report.query import iso

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"
CSS = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:1100px}
h1{margin-bottom:0}.meta{color:#666;margin-top:.3em}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f2f2f2}td.ok{background:#e6f4e4}td.warning{background:#fff0dc}td.critical{background:#fde2e4}
td.nodata{color:#888}img{width:100%;max-width:1000px;border:1px solid #ddd;margin:.4em 0 1.2em}
.nodata-panel{color:#888;font-style:italic}
"""


def _cls(verdict: str) -> str:
    return verdict.split(" ", maxsplit=1)[0].replace("no", "nodata") if verdict != "ok" else "ok"


def kpi_rows(report: Report) -> list[list[str]]:
    rows = []
    for k in report.kpis:
        stats = ", ".join(f"{name.removeprefix('% ')} {k.shown(name, v)}" for name, v in k.stats) or "no data"
        past = ", ".join(f"{b.severity} {humanize_duration(b.seconds)}" for b in k.breaches) or "-"
        rows.append([k.signal.title + (f" ({k.series})" if k.series else ""), k.target(), stats, past, k.verdict])
    return rows


def alert_rows(report: Report) -> list[list[str]]:
    short = report.period.step < 60  # then minutes are too coarse to tell episodes apart
    return [[s.alert, s.severity, s.priority, iso(s.start, short), iso(s.end, short), s.duration()]
            for s in report.spans]


KPI_HEAD = ["signal", "thresholds (spec)", "over the period", "time past threshold", "verdict"]
ALERT_HEAD = ["alert", "severity", "priority", "fired", "ended", "for"]


def _table(head: list[str], rows: list[list[str]], verdict_col: int | None = None) -> str:
    out = ["<table><tr>", *(f"<th>{html.escape(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            cls = f' class="{_cls(cell)}"' if i == verdict_col else ""
            out.append(f"<td{cls}>{html.escape(cell)}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def to_html(report: Report, images: dict[tuple[str, int], bytes]) -> str:
    spec = report.spec
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(spec.title)} daily "
             f"performance report</title><style>{CSS}</style></head><body>",
             f"<h1>{html.escape(spec.title)}: performance report</h1>",
             f"<p class='meta'>{html.escape(report.period.label())} · Prometheus {html.escape(report.prometheus)}"
             f" · spec {html.escape(spec.source)} · overall: <b>{html.escape(report.verdict())}</b></p>",
             "<h2>Key performance indicators</h2>", _table(KPI_HEAD, kpi_rows(report), verdict_col=4),
             "<h2>Alerts that fired</h2>"]
    alerts = alert_rows(report)
    parts.append(_table(ALERT_HEAD, alerts) if alerts else "<p>No alert fired in the period.</p>")
    for section in report.extras:
        parts += [f"<h2>{html.escape(section.extra.title)}</h2><p>{html.escape(section.extra.explain)}</p>",
                  _table(["rule", "labels", "last value"], [[n, lab, f"{v:g}"] for n, lab, v in section.rows])]
    for drawing in report.boards:
        parts.append(f"<h2>Dashboard: {html.escape(drawing.board.title)}</h2>")
        for d in drawing.panels:
            png = base64.b64encode(images[(drawing.board.file, d.panel.id)]).decode()
            alt = f"{drawing.board.title} / {d.panel.title}"
            if not d.has_data:
                parts.append(f"<p class='nodata-panel'>{html.escape(alt)}: no data in this period</p>")
            parts.append(f"<img alt='{html.escape(alt, quote=True)}' src='data:image/png;base64,{png}'>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _table_page(title: str, subtitle: str, head: list[str], rows: list[list[str]]) -> Figure:
    fig = Figure(figsize=(11.69, 8.27), dpi=100)
    fig.text(0.04, 0.95, title, fontsize=16, weight="bold")
    fig.text(0.04, 0.915, subtitle, fontsize=9, color="#555555")
    ax = fig.add_axes((0.03, 0.05, 0.94, 0.84))
    ax.axis("off")
    if rows:
        table = ax.table(cellText=rows, colLabels=head, loc="upper left", cellLoc="left")
        table.auto_set_font_size(False)
        table.set_fontsize(7.5)
        table.auto_set_column_width(list(range(len(head))))
        table.scale(1, 1.4)
    else:
        ax.text(0, 0.95, "None in the period.", fontsize=11)
    return fig


def to_pdf(report: Report) -> bytes:
    buf = io.BytesIO()
    subtitle = f"{report.period.label()} · Prometheus {report.prometheus} · overall: {report.verdict()}"
    with PdfPages(buf, metadata={"Title": f"{report.spec.title} performance report", "CreationDate": None}) as pdf:
        pdf.savefig(_table_page(f"{report.spec.title}: key performance indicators", subtitle, KPI_HEAD,
                                kpi_rows(report)))
        pdf.savefig(_table_page("Alerts that fired", subtitle, ALERT_HEAD, alert_rows(report)))
        for section in report.extras:
            pdf.savefig(_table_page(section.extra.title, section.extra.explain, ["rule", "labels", "last value"],
                                    [[n, lab, f"{v:g}"] for n, lab, v in section.rows]))
        for drawing in report.boards:
            for d in drawing.panels:
                pdf.savefig(d.figure)
    return buf.getvalue()


def render(report: Report) -> dict[str, bytes]:
    images = {(b.board.file, d.panel.id): to_png(d.figure) for b in report.boards for d in b.panels}
    return {HTML_NAME: to_html(report, images).encode(), PDF_NAME: to_pdf(report)}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write(directory: Path, files: dict[str, bytes]) -> list[Path]:
    """Each file to a temporary sibling, then renamed over the old one: a reader never sees half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    temps: list[str] = []
    try:
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
            temps.append(tmp)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o666 & ~_umask())
        for (name, _), tmp in zip(files.items(), temps, strict=True):
            os.replace(tmp, directory / name)
            written.append(directory / name)
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    return written
