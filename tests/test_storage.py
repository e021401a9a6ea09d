"""File storage (server/storage.py): the same contract on local directories and on S3 (moto's S3 server over real
HTTP), ranged streaming downloads, URLs that never show where a file is kept, and readiness."""
import os
import uuid

import pytest

from server import storage
from server.config import Settings, load_settings
from tests.conftest import create_bucket, start_moto
from tests.helpers import create_draft, login_applicant

# Settings built here name stand-ins (the development certificate, the local SMS sink): development mode.
DEVELOPMENT = {"YCT_MODE": "development"}



def _large_pdf() -> bytes:
    """A well-formed PDF of about 770 KB (several storage chunks): its page carries a long stream of comment lines."""
    import io

    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    stream = DecodedStreamObject()
    stream.set_data((b"%" + bytes(range(33, 127)) + b"\n") * 8000)
    page[NameObject("/Contents")] = writer._add_object(stream)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


PDF = _large_pdf()


@pytest.fixture(scope="session")
def moto_endpoint() -> str:
    """The suite's moto server when it runs on S3, else one of its own."""
    if os.environ.get("YCT_STORAGE__URL", "").startswith("s3://") and os.environ.get("YCT_STORAGE__ENDPOINT_URL"):
        return os.environ["YCT_STORAGE__ENDPOINT_URL"]
    return start_moto()


def _s3_settings(endpoint: str, bucket: str, prefix: str = "") -> Settings:
    return load_settings(environ=DEVELOPMENT, storage={
        "url": f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}", "endpoint_url": endpoint,
        "access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"})


@pytest.fixture(params=["local", "s3"])
async def files(request, tmp_path, moto_endpoint):
    """Settings naming one backend, fresh for each test."""
    if request.param == "local":
        settings = load_settings(environ=DEVELOPMENT, uploads={"dir": str(tmp_path / "uploads")},
                                 qrcode_dir=str(tmp_path / "qr"),
                                 signing={"evidence_dir": str(tmp_path / "evidence")})
    else:
        bucket = f"yct-{uuid.uuid4().hex[:12]}"
        create_bucket(moto_endpoint, bucket)
        settings = _s3_settings(moto_endpoint, bucket, prefix="tenant-a")
    yield settings
    await storage.close(settings)


async def test_stored_bytes_come_back_per_area_and_key(files):
    assert await storage.get(files, storage.UPLOADS, "ab/missing.png") is None
    assert await storage.size(files, storage.UPLOADS, "ab/missing.png") is None
    await storage.put(files, storage.UPLOADS, "ab/photo.png", b"first")
    await storage.put(files, storage.EVIDENCE, "ab/photo.png", b"other area")
    assert await storage.get(files, storage.UPLOADS, "ab/photo.png") == b"first"
    assert await storage.get(files, storage.EVIDENCE, "ab/photo.png") == b"other area"
    await storage.put(files, storage.UPLOADS, "ab/photo.png", b"second, longer")
    assert await storage.get(files, storage.UPLOADS, "ab/photo.png") == b"second, longer"
    assert await storage.size(files, storage.UPLOADS, "ab/photo.png") == len(b"second, longer")
    await storage.delete(files, storage.UPLOADS, "ab/photo.png")
    await storage.delete(files, storage.UPLOADS, "ab/photo.png")  # deleting what is gone is fine
    assert await storage.get(files, storage.UPLOADS, "ab/photo.png") is None
    assert await storage.get(files, storage.EVIDENCE, "ab/photo.png") == b"other area"


async def test_any_byte_range_streams_exactly(files):
    await storage.put(files, storage.GUIDES, "1-video.mp4", PDF)
    for start, end in ((0, len(PDF) - 1), (0, 0), (100, 199), (storage.CHUNK_BYTES - 3, storage.CHUNK_BYTES + 5),
                       (len(PDF) - 16, len(PDF) - 1)):
        chunks = [chunk async for chunk in storage.chunks(files, storage.GUIDES, "1-video.mp4", start, end)]
        assert b"".join(chunks) == PDF[start:end + 1], (start, end)
        assert all(len(chunk) <= storage.CHUNK_BYTES for chunk in chunks)


async def test_keys_that_could_escape_their_area_are_refused(files):
    for key in ("", "/etc/passwd", "../secret", "a/../../b", "a//b", "a\\b", "./a"):
        with pytest.raises(ValueError):
            await storage.put(files, storage.UPLOADS, key, b"x")
    with pytest.raises(ValueError):
        await storage.get(files, "elsewhere", "a.png")


async def test_readiness_check_fails_without_the_bucket(moto_endpoint):
    present = _s3_settings(moto_endpoint, bucket := f"yct-{uuid.uuid4().hex[:12]}")
    create_bucket(moto_endpoint, bucket)
    await storage.check(present)
    missing = _s3_settings(moto_endpoint, f"yct-missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(Exception):  # botocore's ClientError: what /readyz reports as "down: ClientError"
        await storage.check(missing)
    await storage.close(present)
    await storage.close(missing)


def test_storage_url_is_checked_at_start():
    with pytest.raises(Exception, match="storage.url"):
        load_settings(environ=DEVELOPMENT, storage={"url": "ftp://files"})
    chosen = load_settings(environ={**DEVELOPMENT, "YCT_STORAGE__URL": "s3://yct-files/prod"})
    assert chosen.storage.url == "s3://yct-files/prod"


async def test_downloads_stream_ranges_and_never_show_where_files_are_kept(client, server):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"])
    uploaded = await client.post(f"/api/v1/applications/{app['id']}/attachments", data={"kind": "premises_proof"},
                                 files={"file": ("lease.pdf", PDF, "application/pdf")}, headers=me["headers"])
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    url = f"/api/v1/applications/{app['id']}/attachments/{body['id']}"
    whole = await client.get(url, headers=me["headers"])
    assert whole.status_code == 200 and whole.content == PDF and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["cache-control"] == "private, no-store"
    part = await client.get(url, headers={**me["headers"], "Range": "bytes=300000-300099"})
    assert part.status_code == 206 and part.content == PDF[300000:300100]
    assert part.headers["content-range"] == f"bytes 300000-300099/{len(PDF)}"
    beyond = await client.get(url, headers={**me["headers"], "Range": f"bytes={len(PDF)}-"})
    assert beyond.status_code == 416
    settings = server.settings
    where = [settings.uploads.dir, "amazonaws", "X-Amz"]
    if settings.storage.url:
        where += [settings.storage.url[len("s3://"):].split("/")[0], settings.storage.endpoint_url]
    shown = " ".join([uploaded.text, *(f"{k}: {v}" for k, v in whole.headers.items()),
                      *(f"{k}: {v}" for k, v in part.headers.items())])
    for secret in where:
        assert secret not in shown, secret
    assert (await client.get(url + "x", headers=me["headers"])).status_code == 404
