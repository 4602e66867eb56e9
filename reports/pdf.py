"""A report as a PDF: title block, sections of text, tables (header repeated on every page) and pictures, laid out
by reportlab (pure Python: no system libraries, the same in the report job). Deterministic bytes: no creation
timestamp, no random document id (reportlab's invariant mode) - the report date is the only date in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd

PAGE_MARGIN_MM = 14


@dataclass
class Table:
    title: str
    frame: pd.DataFrame
    columns: dict[str, str]  # frame column -> header shown
    empty: str  # what the page says when there are no rows
    widths: dict[str, float] = field(default_factory=dict)  # relative widths, default 1
    note: str = ""


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    images: list[tuple[bytes, str]] = field(default_factory=list)  # (PNG bytes, caption)
    page_break_before: bool = False


@dataclass
class Document:
    title: str
    subtitle: str
    summary: list[tuple[str, str]]  # key figures: (label, value)
    sections: list[Section]
    footer: str


def _styles():
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], fontName="Helvetica-Bold", fontSize=18, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", parent=base["Normal"], fontSize=10, textColor=colors.HexColor("#555555"),
                                   spaceAfter=10),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName="Helvetica-Bold", fontSize=13, spaceBefore=10,
                             spaceAfter=4, textColor=colors.HexColor("#1f3b57")),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontName="Helvetica-Bold", fontSize=10, spaceBefore=6,
                             spaceAfter=2),
        "body": ParagraphStyle("body", parent=base["Normal"], fontSize=9, leading=12, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base["Normal"], fontSize=7, leading=8.5),
        "head": ParagraphStyle("head", parent=base["Normal"], fontName="Helvetica-Bold", fontSize=7, leading=8.5,
                               textColor=colors.white),
        "caption": ParagraphStyle("caption", parent=base["Normal"], fontSize=8, textColor=colors.HexColor("#555555")),
    }


def _escape(text) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cell_text(value) -> str:
    """How a value reads in a table: a date column's midnight timestamps as dates, counts without a decimal point,
    nothing for null."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (pd.Timestamp, datetime)):
        ts = pd.Timestamp(value)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(t: Table, styles, width: float):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph
    from reportlab.platypus import Table as RLTable
    from reportlab.platypus import TableStyle

    cols = list(t.columns)
    weights = [t.widths.get(c, 1.0) for c in cols]
    col_widths = [width * w / sum(weights) for w in weights]
    rows = [[Paragraph(_escape(t.columns[c]), styles["head"]) for c in cols]]
    for record in t.frame[cols].itertuples(index=False):
        rows.append([Paragraph(_escape(cell_text(v)), styles["cell"]) for v in record])
    table = RLTable(rows, colWidths=col_widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f3b57")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f1f4f8")]),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#c5ccd6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def render(doc: Document, path: Path, *, landscape_pages: bool = True) -> int:
    """Write the PDF; -> its page count."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as RLTable

    styles = _styles()
    size = landscape(A4) if landscape_pages else A4
    margin = PAGE_MARGIN_MM * mm
    width = size[0] - 2 * margin
    path.parent.mkdir(parents=True, exist_ok=True)
    pages = {"n": 0}

    def on_page(canvas, document):
        pages["n"] = document.page
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(margin, 7 * mm, doc.footer)
        canvas.drawRightString(size[0] - margin, 7 * mm, f"page {document.page}")
        canvas.restoreState()

    story = [Paragraph(_escape(doc.title), styles["title"]), Paragraph(_escape(doc.subtitle), styles["subtitle"])]
    if doc.summary:
        cells = [[Paragraph(f"<b>{_escape(v)}</b><br/>{_escape(k)}", styles["body"]) for k, v in doc.summary]]
        story += [RLTable(cells, colWidths=[width / len(doc.summary)] * len(doc.summary)), Spacer(1, 6)]
    for section in doc.sections:
        if section.page_break_before:
            story.append(PageBreak())
        story.append(Paragraph(_escape(section.title), styles["h2"]))
        story += [Paragraph(p, styles["body"]) for p in section.paragraphs]  # paragraphs may carry <b> markup
        for t in section.tables:
            story.append(Paragraph(_escape(t.title), styles["h3"]))
            if t.note:
                story.append(Paragraph(_escape(t.note), styles["caption"]))
            if t.frame.empty:
                story.append(Paragraph(_escape(t.empty), styles["body"]))
            else:
                story.append(_table(t, styles, width))
            story.append(Spacer(1, 4))
        for png, caption in section.images:
            from io import BytesIO

            from reportlab.lib.utils import ImageReader

            reader = ImageReader(BytesIO(png))
            w, h = reader.getSize()
            scale = min(width / w, 62 * mm / h)
            story.append(KeepTogether([Image(BytesIO(png), width=w * scale, height=h * scale),
                                       Paragraph(_escape(caption), styles["caption"])]))
    template = SimpleDocTemplate(str(path), pagesize=size, leftMargin=margin, rightMargin=margin, topMargin=margin,
                                 bottomMargin=margin + 4 * mm, title=doc.title, author="FinTech Analytics Accelerator",
                                 invariant=1)
    template.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return pages["n"]
