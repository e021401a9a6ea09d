"""The 法定代表人授权委托书 as an A4 PDF (reportlab, the documents' Noto CJK): what the legal representative reads
before signing and, once signed, the copy staff keep with the signature and its evidence. IDs and phones are masked.

Deterministic (reportlab's invariant mode): the same letter and signature give the same bytes.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from server.services.documents.fonts import TextFonts
from server.services.enterprise_accounts.authorisation import readable_letter

MARGIN = 20 * mm
GRID = colors.HexColor("#999999")
PALE = colors.HexColor("#EEF2F8")


@dataclass(frozen=True)
class SignedBy:
    """The signature placed on the letter and the evidence rows printed under it (already masked)."""

    image_png: bytes
    evidence: tuple[tuple[str, str], ...]


def render_letter(letter: dict, letter_hash: str, font_cache_dir: str, signed: SignedBy | None = None) -> bytes:
    readable = readable_letter(letter)
    texts = [readable["title"], *readable["paragraphs"], *(text for row in readable["rows"] for text in row)]
    if signed:
        texts += [text for row in signed.evidence for text in row]
    fonts = TextFonts(font_cache_dir, texts + ["法定代表人签名", "签署证据", "文书哈希（SHA-256）："])
    title = ParagraphStyle("title", fontName=fonts.base, fontSize=18, leading=26, alignment=TA_CENTER,
                           spaceAfter=6 * mm)
    body = ParagraphStyle("body", fontName=fonts.base, fontSize=11, leading=18, firstLineIndent=22, wordWrap="CJK")
    cell = ParagraphStyle("cell", fontName=fonts.base, fontSize=9.5, leading=13, wordWrap="CJK")
    small = ParagraphStyle("small", fontName=fonts.base, fontSize=8, leading=11, textColor=colors.grey,
                           wordWrap="CJK")
    width = A4[0] - 2 * MARGIN

    def p(text, style):
        return Paragraph(fonts.markup(text), style)

    def grid(rows):
        table = Table([[p(label, cell), p(value, cell)] for label, value in rows],
                      colWidths=[width * 0.3, width * 0.7])
        table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID), ("BACKGROUND", (0, 0), (0, -1), PALE),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return table

    story = [p(readable["title"], title), grid(readable["rows"]), Spacer(1, 5 * mm)]
    story += [p(text, body) for text in readable["paragraphs"]]
    story.append(Spacer(1, 8 * mm))
    mark: object = ""
    if signed:
        mark = Image(io.BytesIO(signed.image_png))
        scale = min(60 * mm / mark.imageWidth, 22 * mm / mark.imageHeight)
        mark.drawWidth, mark.drawHeight = mark.imageWidth * scale, mark.imageHeight * scale
    box = Table([[p("法定代表人签名", cell), mark]], colWidths=[width * 0.3, width * 0.7], rowHeights=[28 * mm])
    box.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, GRID), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    story += [box, Spacer(1, 4 * mm)]
    if signed:
        story += [p("签署证据", cell), grid(signed.evidence), Spacer(1, 3 * mm)]
    story.append(p(f"文书哈希（SHA-256）：{letter_hash}", small))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                      bottomMargin=MARGIN, title=readable["title"], author="一窗通", creator="一窗通",
                      producer="一窗通", invariant=1).build(story)
    return buffer.getvalue()
