"""Uploads refused before they cost anything (issue 11 probes): an image over the pixel cap, judged from its header;
PDFs that are encrypted, run something, carry files, or are too long — each with a 422 naming the reason."""
import io

import pytest
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from server.models.applications import Attachment
from tests.helpers import create_draft, login_applicant, png_bytes


async def _upload(client, data: bytes, filename: str, content_type: str):
    me = await login_applicant(client)
    draft = await create_draft(client, me["headers"])
    answer = await client.post(f"/api/v1/applications/{draft['id']}/attachments", data={"kind": "premises_proof"},
                               files={"file": (filename, data, content_type)}, headers=me["headers"])
    return answer


def _huge_png() -> bytes:
    """The probe: a few KB of PNG declaring 7000×7000 pixels (a one-bit image compresses to almost nothing)."""
    out = io.BytesIO()
    Image.new("1", (7000, 7000)).save(out, "PNG")
    return out.getvalue()


async def test_image_over_the_pixel_cap_is_refused_from_its_header(client):
    data = _huge_png()
    assert len(data) < 20_000
    answer = await _upload(client, data, "huge.png", "image/png")
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "file" and "7000×7000" in error["message"] and "2500 万像素" in error["message"]
    assert await Attachment.all().count() == 0


async def test_image_beyond_twice_the_cap_gets_the_same_reason(client, server):
    out = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(out, "PNG")
    answer = await _upload(client, out.getvalue(), "huger.png", "image/png")
    assert answer.status_code == 422 and "像素过大" in answer.json()["error"]["message"]


async def test_an_ordinary_image_is_still_accepted(client):
    assert (await _upload(client, png_bytes((1200, 900)), "photo.png", "image/png")).status_code == 201


def _pdf(build=None, pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if build:
        build(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action(writer: PdfWriter) -> None:
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/GoTo"), NameObject("/D"): TextStringObject("p1")})


def _javascript_names(writer: PdfWriter) -> None:
    script = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('x');")})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): DictionaryObject({
        NameObject("/Names"): ArrayObject([TextStringObject("a"), writer._add_object(script)])})})


def _launch_annotation(writer: PdfWriter) -> None:
    action = DictionaryObject({NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})
    writer.add_annotation(0, DictionaryObject({NameObject("/Type"): NameObject("/Annot"),
                                               NameObject("/Subtype"): NameObject("/Link"), NameObject("/A"): action,
                                               NameObject("/Rect"): writer.pages[0].mediabox}))


@pytest.mark.parametrize("build, pages, reason", [
    (lambda writer: writer.encrypt("secret"), 1, "已加密"),
    (_javascript_names, 1, "JavaScript"),
    (_open_action, 1, "OpenAction"),
    (_launch_annotation, 1, "Launch"),
    (lambda writer: writer.add_attachment("a.exe", b"MZ"), 1, "嵌入文件"),
    (None, 101, "不能超过 100 页"),
])
async def test_pdfs_that_are_encrypted_active_or_too_long_are_refused_naming_the_reason(client, build, pages, reason):
    answer = await _upload(client, _pdf(build, pages), "lease.pdf", "application/pdf")
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "file" and reason in answer.json()["error"]["message"]
    assert await Attachment.all().count() == 0


async def test_a_plain_pdf_is_accepted(client):
    answer = await _upload(client, _pdf(pages=3), "lease.pdf", "application/pdf")
    assert answer.status_code == 201, answer.text


async def test_an_unparseable_pdf_is_refused(client):
    answer = await _upload(client, b"%PDF-1.7\n1 0 obj <</Type /Catalog>>\ngarbage\n%%EOF", "x.pdf", "application/pdf")
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "file"
