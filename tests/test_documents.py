"""Generated documents: the 申请书 and 章程 from the locked snapshot, readable before signing, the platform-signed PDF
checked by pyHanko's validator, public verification, and the notary push (一键公证)."""
import asyncio
import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import cv2
from asn1crypto import pem, x509
from PIL import Image
from pypdf import PdfReader
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from server.models.applications import Attachment
from server.models.documents import GeneratedDocument, NotaryReceipt
from server.models.notifications import OutboxMessage
from server.models.signing import EvidenceEntry
from server.clock import now
from server.services.documents import pades
from server.services.notifications.outbox import deliver_due
from tests.helpers import (
    delivered_sms,
    create_review_application,
    create_staff,
    face_result,
    login_applicant,
    resident_id,
    signature_png_base64,
    token_of,
)

LI, WANG = ("李明", resident_id("19900307", "123")), ("王芳", resident_id("19920815", "234"))
NAME = "崇左云帆科技有限公司"


async def _locked(client, server, entity: dict | None = None):
    """A complete LLC establishment (李明 legal rep and 60%, 王芳 40%) through 云帮办通过, with its signing links."""
    login = await login_applicant(client)
    reviewer = await create_staff(client)
    extra = {"entity": entity} if entity else {}
    application = await create_review_application(login["applicant"]["id"], status="cloud_review", flow="cloud",
                                                  uploads_dir=server.settings.uploads.dir, **extra)
    locked = await client.post(f"/api/v1/review/applications/{application.id}/approve-lock",
                               headers=reviewer["headers"])
    assert locked.status_code == 200, locked.text
    links = {m["params"]["signer"]: m["params"]["link"] for m in await delivered_sms(client, server)
             if m["template"] == "signing_link"}
    return application, login, reviewer, locked.json(), links


async def _sign(client, link: str, who: tuple[str, str], read_first: bool = True):
    token = token_of(link)
    if read_first:
        opened = await client.get(f"/api/v1/sign/{token}/documents/application_form.pdf")
        assert opened.status_code == 200 and opened.content.startswith(b"%PDF-")
    face = await client.post(f"/api/v1/sign/{token}/face",
                             json={"verify_result": await face_result(client, *who)})
    assert face.status_code == 200, face.text
    return await client.post(f"/api/v1/sign/{token}", json={"signature_png_base64": signature_png_base64()},
                             headers={"User-Agent": "Mozilla/5.0 (iPhone) test-phone"})


async def _signed_filing(client, server):
    application, login, reviewer, locked, links = await _locked(client, server)
    for who in (LI, WANG):
        signed = await _sign(client, links[who[0]], who)
        assert signed.status_code == 200, signed.text
    response = await client.get(f"/api/v1/applications/{application.id}/documents/signed.pdf",
                                headers=login["headers"])
    assert response.status_code == 200, response.text
    return application, login, reviewer, locked, response.content


def _trust_roots(server):
    root = Path(server.settings.documents.dev_certificate_dir) / "root.pem"
    return [x509.Certificate.load(der) for _, _, der in pem.unarmor(root.read_bytes(), multiple=True)]


async def _validate(server, data: bytes):
    signature = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures[0]
    context = ValidationContext(trust_roots=_trust_roots(server), allow_fetching=False)
    return await async_validate_pdf_signature(signature, context)


# --- the generated documents -------------------------------------------------------------------------------------

async def test_lock_generates_the_application_form_from_the_snapshot(client, server):
    application, login, _, locked, _ = await _locked(client, server)
    listed = await client.get(f"/api/v1/applications/{application.id}/documents", headers=login["headers"])
    assert listed.status_code == 200
    [form] = listed.json()
    assert form["kind"] == "application_form" and form["title"] == "有限责任公司设立登记申请书"
    pdf = await client.get(form["url"], headers=login["headers"])
    assert pdf.headers["content-type"] == "application/pdf"
    # Recorded with the lock: the hash the approve-lock answered is the hash of the file served.
    assert hashlib.sha256(pdf.content).hexdigest() == form["sha256"] == locked["documents"][0]["sha256"]
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == form["pages"]
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in (NAME, "李明", "王芳", locked["snapshot_hash"], "崇左市江州区新民路1号", "江州区市场监督管理局",
                     "出资额", "签字页", f"第 1 页 共 {form['pages']} 页"):
        assert expected in text, expected
    assert LI[1] not in text and "13800001111" not in text  # ID numbers and phones are masked


async def test_same_snapshot_gives_the_same_bytes(client, server):
    application, login, _, _, _ = await _locked(client, server)
    first = (await client.get(f"/api/v1/applications/{application.id}/documents", headers=login["headers"])).json()
    await GeneratedDocument.filter(application_id=application.id).delete()
    second = (await client.get(f"/api/v1/applications/{application.id}/documents", headers=login["headers"])).json()
    assert [d["sha256"] for d in first] == [d["sha256"] for d in second]


def _glyph_cells(png: bytes, top: float, bottom: float) -> list[bytes]:
    """The ink of each character of one line of the page (columns of ink separated by blank columns)."""
    image = Image.open(io.BytesIO(png)).convert("L")
    band = image.crop((0, int(image.height * top), image.width, int(image.height * bottom)))
    inked = [any(band.getpixel((x, y)) < 128 for y in range(band.height)) for x in range(band.width)]
    cells, start = [], None
    for x, ink in enumerate([*inked, False]):
        if ink and start is None:
            start = x
        elif not ink and start is not None:
            cells.append(band.crop((start, 0, x, band.height)).tobytes())
            start = None
    return cells


async def test_application_form_renders_chinese_glyphs_not_boxes(client, server, tmp_path):
    application, login, _, _, _ = await _locked(client, server)
    pdf = await client.get(f"/api/v1/applications/{application.id}/documents/application_form.pdf",
                           headers=login["headers"])
    (tmp_path / "form.pdf").write_bytes(pdf.content)
    subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", str(tmp_path / "form.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    png = next(tmp_path.glob("page*.png")).read_bytes()
    # The title 有限责任公司设立登记申请书: thirteen characters, each drawn with its own shape. Missing glyphs would
    # all be the same box (or nothing at all).
    cells = _glyph_cells(png, 0.055, 0.095)
    assert len(cells) >= 12
    assert len(set(cells)) >= 11
    # The footer's QR code leads to the public verification page.
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", str(tmp_path / "form.pdf"),
                    str(tmp_path / "sharp")], check=True, timeout=60)
    image = cv2.imread(str(next(tmp_path.glob("sharp*.png"))))
    height, width = image.shape[:2]
    decoded = cv2.QRCodeDetector().detectAndDecode(image[int(height * 0.85):, int(width * 0.75):])[0]
    assert decoded == f"{server.settings.base_url}/verify"


async def test_model_articles_replace_the_upload_when_chosen(client, server):
    entity = {"address": "崇左市江州区新民路1号", "business_scope": "软件开发", "contact_phone": "13800138000",
              "operating_term": "长期", "registered_capital": "100", "articles_from_model": True}
    application, login, _, locked, _ = await _locked(client, server, entity)
    assert [d["kind"] for d in locked["documents"]] == ["application_form", "articles_of_association"]
    assert not await Attachment.filter(application_id=application.id, kind="articles_of_association").exists()
    articles = await client.get(f"/api/v1/applications/{application.id}/documents/articles_of_association.pdf",
                                headers=login["headers"])
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(articles.content)).pages)
    for expected in (f"{NAME}章程", "人民币100万元", "王芳", "李明", "40%", "60%", "五年内缴足", "第十四条"):
        assert expected in text, expected


async def test_application_form_is_generated_not_uploaded(client, server):
    login = await login_applicant(client)
    # Whatever the business, the form never asks for an uploaded 申请书 …
    for business in ("establish", "change", "deregister", "simple_deregister"):
        app = await create_review_application(login["applicant"]["id"], business_type=business)
        missing = (await client.get(f"/api/v1/applications/{app.id}", headers=login["headers"])).json()["missing"]
        assert "application_form" not in {item.get("attachment_kind") for item in missing}
    # … and refuses one.
    app = await create_review_application(login["applicant"]["id"])
    upload = await client.post(f"/api/v1/applications/{app.id}/attachments", headers=login["headers"],
                               data={"kind": "application_form"}, files={"file": ("a.png", b"\x89PNG\r\n\x1a\n")})
    assert upload.status_code == 422 and upload.json()["error"]["field"] == "kind"


# --- reading before signing ----------------------------------------------------------------------------------------

async def test_signer_must_open_the_application_form_before_signing(client, server):
    application, _, _, _, links = await _locked(client, server)
    token = token_of(links["王芳"])
    reading = (await client.get(f"/api/v1/sign/{token}/documents")).json()
    assert [d["title"] for d in reading["documents"]] == ["有限责任公司设立登记申请书"]
    assert reading["documents"][0]["opened"] is False
    titles = {a["title"] for a in reading["attachments"]}
    assert "住所（经营场所）使用证明" in titles and all(a["url"].startswith(f"/api/v1/sign/{token}/") for a in
                                                 reading["attachments"])
    image = await client.get(reading["attachments"][0]["url"])
    assert image.status_code == 200
    refused = await _sign(client, links["王芳"], WANG, read_first=False)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "document_not_opened"
    signed = await _sign(client, links["王芳"], WANG)
    assert signed.status_code == 200
    payload = json.loads(signed.json()["evidence"]["payload"])
    form = reading["documents"][0]
    assert payload["documents"] == [{"kind": "application_form", "sha256": form["sha256"]}]
    assert [(d["kind"], d["sha256"]) for d in payload["documents_opened"]] == [("application_form", form["sha256"])]


# --- the signed PDF --------------------------------------------------------------------------------------------

async def test_last_signature_makes_a_platform_signed_pdf_with_a_valid_timestamp(client, server):
    application, login, reviewer, locked, data = await _signed_filing(client, server)
    status = await _validate(server, data)
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.timestamp_validity is not None and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "签名证据（1）" in text and "签名证据（2）" in text and "人脸核验编号" in text
    assert locked["snapshot_hash"] in text and "李*" in text and "王*" in text
    assert LI[1] not in text
    listed = (await client.get(f"/api/v1/applications/{application.id}/documents", headers=reviewer["headers"])).json()
    assert listed[-1]["kind"] == "signed" and listed[-1]["sha256"] == hashlib.sha256(data).hexdigest()
    # One changed byte inside the signed range breaks the signature.
    changed = bytearray(data)
    changed[len(changed) // 3] ^= 0x01
    broken = await _validate(server, bytes(changed))
    assert not broken.intact
    # The notary's evidence package carries the signed PDF and the receipts of the notary push.
    await deliver_due(server.app.ctx)
    package = await client.get(f"/api/v1/review/applications/{application.id}/evidence.zip",
                               headers=reviewer["headers"])
    archive = zipfile.ZipFile(io.BytesIO(package.content))
    assert archive.read("signed.pdf") == data
    receipts = json.loads(archive.read("notary-receipts.json"))
    assert [r["status"] for r in receipts] == ["received", "received"]


async def test_without_a_tsa_the_signature_is_pades_b_b(server):
    settings = server.settings.model_copy(update={"documents": server.settings.documents.model_copy(
        update={"tsa_url": ""})})
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, invariant=1)
    canvas.drawString(100, 700, "B-B")
    canvas.save()
    signed = await pades.sign(settings, buffer.getvalue(), "test")
    status = await _validate(server, signed)
    assert status.intact and status.valid and status.trusted and status.timestamp_validity is None


# --- public verification ---------------------------------------------------------------------------------------

async def test_verify_finds_the_signed_pdf_by_file_and_hash_not_a_changed_copy_and_shows_tampering(client, server):
    application, _, _, _, data = await _signed_filing(client, server)
    by_file = await client.post("/api/v1/verify", files={"file": ("signed.pdf", data, "application/pdf")})
    assert by_file.status_code == 200, by_file.text
    answer = by_file.json()
    assert answer["found"] is True and answer["document"]["kind"] == "signed"
    assert answer["filing"]["entity_name"] == NAME and answer["filing"]["business_type"] == "establish"
    assert answer["filing"]["authority"] == "江州区市场监督管理局" and answer["filing"]["locked_at"]
    assert sorted(s["name_masked"] for s in answer["signers"]) == ["李*", "王*"]
    assert answer["platform_signature"]["valid"] is True and answer["platform_signature"]["timestamp"]
    assert "一窗通" in answer["platform_signature"]["signer"] and answer["chain_ok"] is True
    flat = json.dumps(answer, ensure_ascii=False)
    for private in (LI[1], WANG[1], "13800001111", "新民路"):
        assert private not in flat
    by_hash = await client.post("/api/v1/verify", json={"sha256": hashlib.sha256(data).hexdigest()})
    assert by_hash.json()["found"] is True and by_hash.json()["platform_signature"]["valid"] is True
    changed = bytearray(data)
    changed[100] ^= 0x01
    assert (await client.post("/api/v1/verify", files={"file": ("x.pdf", bytes(changed))})).json()["found"] is False
    bad = await client.post("/api/v1/verify", json={"sha256": "xyz"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "sha256"
    # A tampered evidence entry shows in the answer.
    entry = await EvidenceEntry.all().order_by("seq").first()
    await EvidenceEntry.filter(seq=entry.seq).update(payload=entry.payload.replace("test-phone", "other-phone"))
    answer = (await client.post("/api/v1/verify", json={"sha256": hashlib.sha256(data).hexdigest()})).json()
    assert answer["found"] is True and answer["chain_ok"] is False


async def test_verify_is_rate_limited_per_address(client, server):
    limit = server.settings.documents.verify_per_minute
    answers = [await client.post("/api/v1/verify", json={"sha256": "0" * 64}) for _ in range(limit + 1)]
    assert [a.status_code for a in answers[:limit]] == [200] * limit
    assert answers[-1].status_code == 429 and int(answers[-1].headers["Retry-After"]) >= 1


# --- 一键公证 -------------------------------------------------------------------------------------------------

async def test_each_evidence_entry_is_pushed_to_the_notary_with_a_stored_receipt(client, server, paused_outbox):
    application, _, reviewer, _, links = await _locked(client, server)
    server.app.ctx.notary_state.fail_next = [503]
    assert (await _sign(client, links["李明"], LI)).status_code == 200
    await deliver_due(server.app.ctx)
    push = await OutboxMessage.get(channel="notary")
    assert push.status == "pending" and push.attempts == 1 and "503" in push.last_error
    assert not await NotaryReceipt.exists()
    await OutboxMessage.filter(id=push.id).update(next_attempt_at=now())
    await deliver_due(server.app.ctx)
    push = await OutboxMessage.get(channel="notary")
    entry = await EvidenceEntry.get(application_id=application.id)
    receipt = await NotaryReceipt.get(seq=entry.seq)
    assert push.status == "sent" and push.provider_message_id == receipt.receipt_id
    received = server.app.ctx.notary_state.receipts[entry.entry_hash]["record"]
    assert received["filing_reference"].startswith("YCT-") and received["chain_head"]["seq"] == entry.seq
    assert "李明" not in json.dumps(received, ensure_ascii=False)
    listed = await client.get(f"/api/v1/review/applications/{application.id}/notary-receipts",
                              headers=reviewer["headers"])
    assert listed.json() == [{"seq": entry.seq, "kind": "signature", "entry_hash": entry.entry_hash,
                              "status": "received", "receipt_id": receipt.receipt_id,
                              "received_at": receipt.received_at.isoformat()}]
    detail = (await client.get(f"/api/v1/review/applications/{application.id}", headers=reviewer["headers"])).json()
    assert detail["notary_receipts"] == listed.json()
    assert [d["kind"] for d in detail["documents"]] == ["application_form"]


async def test_notary_refuses_a_push_with_a_wrong_signature(server):
    from server.notary import NotaryClient
    from server.sms import PermanentFailure

    client = NotaryClient(server.settings.notary_url, "not-the-shared-key", 5)
    try:
        await client.push({"entry_hash": "a" * 64, "filing_reference": "YCT-X"}, "k1")
    except PermanentFailure as exc:
        assert exc.code == "http_401"
    else:
        raise AssertionError("a push with a wrong HMAC was accepted")
    finally:
        await client.close()


async def test_concurrent_last_signatures_make_one_signed_pdf(client, server):
    application, _, _, _, links = await _locked(client, server)
    for who in (LI, WANG):
        token = token_of(links[who[0]])
        await client.get(f"/api/v1/sign/{token}/documents/application_form.pdf")
        await client.post(f"/api/v1/sign/{token}/face", json={"verify_result": await face_result(client, *who)})
    answers = await asyncio.gather(*(client.post(f"/api/v1/sign/{token_of(links[who[0]])}",
                                                 json={"signature_png_base64": signature_png_base64()})
                                     for who in (LI, WANG)))
    assert [a.status_code for a in answers] == [200, 200]
    assert await GeneratedDocument.filter(application_id=application.id, kind="signed").count() == 1
