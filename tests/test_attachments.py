"""Attachments: content sniffing, size limit, EXIF stripping, thumbnails, hashes and who may read them."""
import hashlib
import io

from PIL import Image

from server.models.applications import Application, Attachment
from tests.helpers import (
    create_draft,
    create_staff,
    jpeg_with_gps,
    login_applicant,
    pdf_bytes,
    png_bytes,
)

PDF = pdf_bytes()


async def upload(client, app_id, headers, data, kind="premises_proof", filename="photo.jpg", content_type="image/jpeg"):
    return await client.post(f"/api/v1/applications/{app_id}/attachments", data={"kind": kind},
                             files={"file": (filename, data, content_type)}, headers=headers)


async def test_photo_is_reencoded_without_gps_and_hashed(client, server):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)
    response = await upload(client, app["id"], me["headers"], original, kind="id_document")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "id_document" and body["content_type"] == "image/jpeg"
    stored = await client.get(f"/api/v1/applications/{app['id']}/attachments/{body['id']}", headers=me["headers"])
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(stored.content).hexdigest() == body["sha256"] and len(stored.content) == body["size"]
    cleaned = Image.open(io.BytesIO(stored.content))
    assert not cleaned.getexif() and cleaned.size == (640, 480)
    thumb = await client.get(f"/api/v1/applications/{app['id']}/attachments/{body['id']}/thumbnail", headers=me["headers"])
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.content)).size) <= 320
    record = await Attachment.get(id=body["id"])
    assert "photo" not in record.storage_path and len(record.storage_path.split("/")[-1]) >= 32


async def test_type_is_judged_by_content_not_by_name(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    disguised = await upload(client, app["id"], me["headers"], b"MZ\x90\x00 not an image at all", filename="id.jpg")
    assert disguised.status_code == 422 and disguised.json()["error"]["field"] == "file"
    png_named_pdf = await upload(client, app["id"], me["headers"], png_bytes(), filename="scan.pdf",
                                 content_type="application/pdf")
    assert png_named_pdf.status_code == 201 and png_named_pdf.json()["content_type"] == "image/png"
    pdf = await upload(client, app["id"], me["headers"], PDF, filename="lease.bin", content_type="image/png")
    assert pdf.status_code == 201 and pdf.json()["content_type"] == "application/pdf"
    broken = await upload(client, app["id"], me["headers"], b"\xff\xd8\xff\xe0" + b"\x00" * 50)
    assert broken.status_code == 422
    assert await Attachment.all().count() == 2


async def test_oversized_upload_is_413_and_stores_nothing(client, server):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    big = PDF[:-6] + b"0" * (server.settings.uploads.max_bytes + 1) + b"%%EOF\n"
    response = await upload(client, app["id"], me["headers"], big, filename="big.pdf")
    assert response.status_code == 413
    assert await Attachment.all().count() == 0


async def test_unknown_kind_or_missing_file_is_422(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    assert (await upload(client, app["id"], me["headers"], PDF, kind="selfie")).json()["error"]["field"] == "kind"
    no_file = await client.post(f"/api/v1/applications/{app['id']}/attachments", data={"kind": "premises_proof"},
                                headers=me["headers"])
    assert no_file.status_code in (400, 422)
    assert await Attachment.all().count() == 0


async def test_upload_satisfies_the_missing_item_and_bumps_the_materials_version(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    assert any(item.get("attachment_kind") == "premises_proof" for item in app["missing"])
    await upload(client, app["id"], me["headers"], PDF, kind="premises_proof")
    after = (await client.get(f"/api/v1/applications/{app['id']}", headers=me["headers"])).json()
    assert not any(item.get("attachment_kind") == "premises_proof" for item in after["missing"])
    assert after["materials_version"] == app["materials_version"] + 1


async def test_attachment_can_be_removed_while_editable(client, server):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    body = (await upload(client, app["id"], me["headers"], png_bytes())).json()
    removed = await client.delete(f"/api/v1/applications/{app['id']}/attachments/{body['id']}", headers=me["headers"])
    assert removed.status_code == 200 and await Attachment.all().count() == 0
    gone = await client.get(f"/api/v1/applications/{app['id']}/attachments/{body['id']}", headers=me["headers"])
    assert gone.status_code == 404


async def test_attachment_readable_by_owner_and_staff_in_scope_only(client):
    alice = await login_applicant(client, "alice")
    bob = await login_applicant(client, "bob")
    app = await create_draft(client, alice["headers"], authority_code="451402")
    body = (await upload(client, app["id"], alice["headers"], png_bytes())).json()
    path = f"/api/v1/applications/{app['id']}/attachments/{body['id']}"
    city = await create_staff(client, "city-reviewer", authority="451400")
    county = await create_staff(client, "county-reviewer", authority="451402")
    other_county = await create_staff(client, "fusui-reviewer", authority="451421")
    other_city = await create_staff(client, "nanning-reviewer", authority="450100")
    assert (await client.get(path, headers=city["headers"])).status_code == 200
    assert (await client.get(path, headers=county["headers"])).status_code == 200
    assert (await client.get(path + "/thumbnail", headers=county["headers"])).status_code == 200
    assert (await client.get(path, headers=other_county["headers"])).status_code == 404
    assert (await client.get(path, headers=other_city["headers"])).status_code == 404
    assert (await client.get(path, headers=bob["headers"])).status_code == 404
    client.cookies.clear()
    assert (await client.get(path)).status_code == 401


async def test_pdf_has_no_thumbnail(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    body = (await upload(client, app["id"], me["headers"], PDF, filename="x.pdf")).json()
    thumb = await client.get(f"/api/v1/applications/{app['id']}/attachments/{body['id']}/thumbnail", headers=me["headers"])
    assert thumb.status_code == 404


async def test_locked_application_refuses_attachment(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    body = (await upload(client, app["id"], me["headers"], PDF)).json()
    await Application.filter(id=app["id"]).update(status="cloud_review")
    assert (await upload(client, app["id"], me["headers"], png_bytes())).status_code == 409
    removed = await client.delete(f"/api/v1/applications/{app['id']}/attachments/{body['id']}", headers=me["headers"])
    assert removed.status_code == 409 and await Attachment.all().count() == 1
