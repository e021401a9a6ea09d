"""一次性告知单: the one-time notice sheet of a business and entity type, from the same materials data the forms use.

A sheet lists every material (who signs it, its legal basis), the business's legal basis and time limit, the fee
(free) and where to apply: the service point whose QR code led here, and online. It is a mobile page and a
printable A4 (PNG and PDF, rendered with the poster font).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from server.errors import NotFound
from server.models.applications import BUSINESS_TYPES, ENTITY_TYPES
from server.models.guides import ServicePoint
from server.services.applications import materials
from server.services.guides.fonts import font, require_glyphs
from server.services.guides.points import authority_title
from server.services.guides.posters import A4_PX, BLUE, DPI, GREY, INK, PALE, WHITE
from server.vocabulary import BusinessType, EntityType

FEE = "免费"
ONLINE = "网上办理：微信搜索“一窗通”小程序，或登录广西企业开办“一窗通”平台"
GENERATED = {"always": "由系统根据填报内容自动生成，签字人在线签名，无需上传"}
GENERATED_WHEN = "可选用章程范本由系统根据填报内容生成，无需上传"


def _check(business_type: str, entity_type: str) -> None:
    if business_type not in BUSINESS_TYPES or entity_type not in ENTITY_TYPES:
        raise NotFound("没有这种告知单")


def sheet_url(code: str, business_type: str, entity_type: str) -> str:
    return f"/g/{code}/notices/{business_type}/{entity_type}"


def catalogue(code: str) -> list[dict]:
    """The business types, for the landing page (kept small: it is the page every scan loads)."""
    return [{"label": BusinessType(business_type).label, "url": f"/g/{code}/notices/{business_type}"}
            for business_type in BUSINESS_TYPES]


def business_sheets(code: str, business_type: str) -> dict:
    """The sheets of one business type, one per entity type."""
    if business_type not in BUSINESS_TYPES:
        raise NotFound("没有这种告知单")
    return {"code": code, "label": BusinessType(business_type).label,
            "sheets": [{"label": EntityType(entity_type).label,
                        "url": sheet_url(code, business_type, entity_type)} for entity_type in ENTITY_TYPES]}


def notice_sheet(business_type: str, entity_type: str, point: ServicePoint) -> dict:
    _check(business_type, entity_type)
    info = materials.business_info(business_type)
    business_label = BusinessType(business_type).label
    entity_label = EntityType(entity_type).label
    items = [{"no": number, "name": item["name"], "signer": item["signer"], "basis": item["basis"],
              "condition": "；".join(filter(None, (materials.condition_label(item.get("when")),
                                                  GENERATED.get(item.get("generated", ""), GENERATED_WHEN)
                                                  if item.get("generated") else "")))}
             for number, item in enumerate(materials.required_materials(business_type, entity_type), start=1)]
    where = [f"{authority_title(point.authority)} · {point.name}"]
    if point.address:
        where.append(f"地址：{point.address}")
    if point.opening_hours:
        where.append(f"办公时间：{point.opening_hours}")
    if point.hotline:
        where.append(f"咨询电话：{point.hotline}")
    return {
        "title": f"{entity_label}{business_label}一次性告知单",
        "business_type": business_type, "entity_type": entity_type,
        "business_label": business_label, "entity_label": entity_label,
        "materials": items,
        "basis": info["basis"], "time_limit": info["time_limit"], "fee": FEE,
        "where": where, "online": ONLINE, "hotline": point.hotline,
        "code": point.code,
        "png_url": sheet_url(point.code, business_type, entity_type) + "/a4.png",
        "pdf_url": sheet_url(point.code, business_type, entity_type) + "/a4.pdf",
    }


@dataclass(frozen=True)
class _Printable:
    title: str
    rows: tuple[tuple[str, str, str, str], ...]
    footer: tuple[str, ...]


def _printable(sheet: dict) -> _Printable:
    rows = tuple((str(item["no"]), item["name"] + (f"（{item['condition']}）" if item["condition"] else ""),
                  item["signer"], item["basis"]) for item in sheet["materials"])
    footer = (f"设定依据：{sheet['basis']}", f"办理时限：{sheet['time_limit']}", f"收费标准：{sheet['fee']}",
              "办理地点：" + "；".join(sheet["where"]), sheet["online"],
              "申请人应当对提交材料的真实性、合法性和有效性负责。本告知单一次性告知全部所需材料。")
    return _Printable(sheet["title"], rows, footer)


def _wrap(draw: ImageDraw.ImageDraw, text: str, face, width: int) -> list[str]:
    """Chinese wraps between any two characters: fill each line up to the width."""
    lines, line = [], ""
    for char in text:
        if draw.textlength(line + char, font=face) > width and line:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


@lru_cache(maxsize=64)
def _render(printable: _Printable, font_path: str) -> Image.Image:
    require_glyphs(printable.title + "".join("".join(row) for row in printable.rows) + "".join(printable.footer)
                   + "序号材料名称签署要求依据", font_path)
    width, height = A4_PX
    margin = 180
    sheet = Image.new("RGB", A4_PX, WHITE)
    draw = ImageDraw.Draw(sheet)
    draw.rectangle((0, 0, width, 60), fill=BLUE)
    title_face = font(96, "bold", font_path)
    left, top, right, bottom = draw.textbbox((0, 0), printable.title, font=title_face)
    draw.text(((width - (right - left)) // 2 - left, 180 - top), printable.title, font=title_face, fill=BLUE)
    y = 180 + (bottom - top) + 90

    body, head = font(40, "regular", font_path), font(42, "bold", font_path)
    columns = [(margin, 120), (margin + 120, 720), (margin + 840, 540), (margin + 1380, width - 2 * margin - 1380)]
    line_height, pad = 56, 18

    def row(cells, face, fill=None):
        nonlocal y
        wrapped = [_wrap(draw, text, face, col_width - 2 * pad) for text, (_, col_width) in zip(cells, columns)]
        row_height = max(len(lines) for lines in wrapped) * line_height + 2 * pad
        if fill:
            draw.rectangle((margin, y, width - margin, y + row_height), fill=fill)
        for lines, (x, col_width) in zip(wrapped, columns):
            draw.rectangle((x, y, x + col_width, y + row_height), outline=GREY, width=2)
            for index, line in enumerate(lines):
                draw.text((x + pad, y + pad + index * line_height), line, font=face, fill=INK)
        y += row_height

    row(("序号", "材料名称", "签署要求", "依据"), head, PALE)
    for cells in printable.rows:
        row(cells, body)
    y += 70
    for text in printable.footer:
        for line in _wrap(draw, text, body, width - 2 * margin):
            draw.text((margin, y), line, font=body, fill=INK)
            y += line_height
        y += 14
    draw.rectangle((0, height - 60, width, height), fill=BLUE)
    return sheet


def a4_png(sheet: dict, font_path: str = "") -> bytes:
    buffer = io.BytesIO()
    _render(_printable(sheet), font_path).save(buffer, "PNG", dpi=(DPI, DPI), compress_level=1)
    return buffer.getvalue()


def a4_pdf(sheet: dict, font_path: str = "") -> bytes:
    buffer = io.BytesIO()
    _render(_printable(sheet), font_path).save(buffer, "PDF", resolution=DPI, title=sheet["title"], quality=92,
                                               creationDate=None, modDate=None)
    return buffer.getvalue()
