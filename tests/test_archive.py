"""The electronic archive (seed 002 电子档案 移交归档, seed 001 容e查): an approved filing archived as one bundle whose
manifest and ledger verify; any changed byte named with its file; no route can change an archived filing; 容e查 by
credit code, name, applicant and date, every read audited; rejected and withdrawn filings with their own retention;
scanned paper archives imported as bundles."""
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import uuid
import zipfile

import pytest
from tortoise import connections

from server import storage
from server.models.applications import Application
from server.models.archive import ArchiveBundle, ArchiveImmutableError, ArchiveLedgerEntry
from server.models.review import AuditEntry
from server.services.applications.service import canonical_materials, materials_hash
from tests.archive_helpers import approved_filing
from tests.helpers import create_registered, create_review_application, create_staff, login_applicant, png_bytes, \
    valid_credit_code


def _key(bundle_id: str, path: str) -> str:
    return f"archive/{bundle_id}/{path}"


def _cli(server, *args):
    env = {**os.environ, "YCT_DATABASE__URL": server.settings.database.url,
           "YCT_UPLOADS__DIR": server.settings.uploads.dir, "YCT_CACHE__URL": "memory://"}
    return subprocess.run([sys.executable, "-m", "server", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def test_approved_journey_is_archived_as_one_bundle_that_verifies(client, server):
    filing = await approved_filing(client, server)
    reviewer = filing["reviewer"]
    listing = await client.get(f"/api/v1/archive/{filing['credit_code']}", headers=reviewer["headers"])
    assert listing.status_code == 200, listing.text
    [item] = listing.json()["items"]
    assert item["outcome"] == "approved" and item["outcome_label"] == "已核准"
    assert item["retention_label"] == "永久" and item["application_id"] == filing["app_id"]
    assert item["applicant_phone_masked"] == "136****6666"

    download = await client.get(item["download_url"], headers=reviewer["headers"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(download.content))
    names = set(bundle.namelist())
    # The generated and platform-signed PDFs, every attachment, the evidence with the notary's receipts, the
    # timeline, the decisions and the staff audit (the list), each with its SHA-256 in the manifest.
    for expected in ("manifest.json", "ledger-entry.json", "README.txt", "filing.json",
                     "documents/application_form.pdf", "documents/signed.pdf", "evidence/entries.jsonl",
                     "evidence/chain.csv", "evidence/notary-receipts.json", "timeline.json", "decisions.json",
                     "audit.json"):
        assert expected in names, expected
    assert len([n for n in names if n.startswith("evidence/signatures/")]) == 2
    attachments = [n for n in names if n.startswith("attachments/")]
    assert len(attachments) >= 3
    manifest_text = bundle.read("manifest.json")
    manifest = json.loads(manifest_text)
    assert hashlib.sha256(manifest_text).hexdigest() == item["manifest_sha256"]
    assert {f["path"] for f in manifest["files"]} == names - {"manifest.json", "ledger-entry.json", "README.txt"}
    for entry in manifest["files"]:
        assert hashlib.sha256(bundle.read(entry["path"])).hexdigest() == entry["sha256"], entry["path"]
    ledger = json.loads(bundle.read("ledger-entry.json"))
    assert hashlib.sha256((ledger["prev_hash"] + ledger["payload"]).encode()).hexdigest() == ledger["entry_hash"]
    assert json.loads(ledger["payload"])["manifest_sha256"] == item["manifest_sha256"]
    assert [d["action"] for d in json.loads(bundle.read("decisions.json"))] == ["approve_lock", "accept", "approve"]
    assert {a["action"] for a in json.loads(bundle.read("audit.json"))} >= {"approve_lock", "accept", "approve"}
    assert bundle.read("documents/signed.pdf").startswith(b"%PDF-")

    verified = await client.get("/api/v1/archive/verify", headers=reviewer["headers"])
    assert verified.status_code == 200 and verified.json()["ok"] is True
    assert verified.json()["bundles_checked"] == 1
    one = await client.get(item["verify_url"], headers=reviewer["headers"])
    assert one.json()["ok"] is True
    result = _cli(server, "archive", "verify")
    assert result.returncode == 0 and "all hashes match" in result.stdout
    filing["phone"].close()


async def test_any_changed_byte_is_reported_with_its_file(client, server):
    filing = await approved_filing(client, server)
    reviewer = filing["reviewer"]
    [item] = (await client.get(f"/api/v1/archive/{filing['credit_code']}", headers=reviewer["headers"])).json()["items"]
    key = _key(item["id"], "documents/signed.pdf")
    data = bytearray(await storage.get(server.settings, storage.GENERATED, key))
    data[len(data) // 2] ^= 0x01
    await storage.put(server.settings, storage.GENERATED, key, bytes(data))

    verified = (await client.get("/api/v1/archive/verify", headers=reviewer["headers"])).json()
    assert verified["ok"] is False
    assert [(p["path"], p["reason"], p["bundle_id"]) for p in verified["problems"]] == [
        ("documents/signed.pdf", "changed", item["id"])]
    result = _cli(server, "archive", "verify")
    assert result.returncode == 1 and "documents/signed.pdf" in result.stderr

    # A file gone, and a ledger entry rewritten behind the application's back, are named too.
    await storage.delete(server.settings, storage.GENERATED, _key(item["id"], "timeline.json"))
    await connections.get("default").execute_query(
        "UPDATE archive_ledger_entry SET payload = REPLACE(payload, 'manifest', 'manifesto')")
    problems = (await client.get("/api/v1/archive/verify", headers=reviewer["headers"])).json()["problems"]
    reasons = {(p["path"], p["reason"]) for p in problems}
    assert ("timeline.json", "missing") in reasons and (None, "ledger_entry_hash") in reasons
    filing["phone"].close()


async def test_only_the_ledger_writer_numbers_its_entries(server):
    # The chain is 1, 2, 3, … as the writer numbers it: the database gives no number of its own (migration 0026).
    from tortoise.exceptions import IntegrityError

    with pytest.raises(IntegrityError):
        await connections.get("default").execute_query(
            "INSERT INTO archive_ledger_entry (prev_hash, payload, entry_hash, bundle_id) "
            "VALUES ('0', '{}', '0', '00000000-0000-0000-0000-000000000001')")


def _concrete(path: str, values: dict) -> str:
    def value(match):
        name = match.group(1)
        for key, replacement in values.items():
            if key in name:
                return replacement
        return values["*"]

    return "/" + re.sub(r"<([a-z_]+)(?::[^>]+)?>", value, path.lstrip("/"))


async def test_no_route_can_modify_an_archived_filing(client, server):
    filing = await approved_filing(client, server)
    app_id, reviewer = filing["app_id"], filing["reviewer"]
    admin = await create_staff(client, "archive-admin", "admin", "451400")
    applicant = await login_applicant(client, "openid-archive")
    bundle = await ArchiveBundle.get(application_id=app_id)
    application = await Application.get(id=app_id)
    before = (application.status, materials_hash(await canonical_materials(application)), application.credit_code)
    values = {"application": app_id, "credit_code": filing["credit_code"], "bundle": str(bundle.id),
              "attachment": str(uuid.uuid4()), "*": app_id}
    tried = 0
    for route in server.app.router.routes:
        path = route.path if route.path.startswith("/") else "/" + route.path
        if path.startswith(("/_mock", "/dev")) or "logout" in path:
            continue
        for method in sorted(set(route.methods) & {"POST", "PUT", "PATCH", "DELETE"}):
            url = _concrete(path, values)
            for headers in (reviewer["headers"], admin["headers"], applicant["headers"]):
                response = await client.request(method, url, headers=headers, json={})
                assert response.status_code < 500, (method, url, response.text)
                tried += 1
    assert tried > 50
    application = await Application.get(id=app_id)
    assert (application.status, materials_hash(await canonical_materials(application)),
            application.credit_code) == before
    assert await ArchiveBundle.all().count() == 1
    verified = (await client.get("/api/v1/archive/verify", headers=reviewer["headers"])).json()
    assert verified["ok"] is True, verified["problems"]
    # Nor through the models: the archive's rows only ever grow.
    with pytest.raises(ArchiveImmutableError):
        await ArchiveBundle.filter(id=bundle.id).update(entity_name="改")
    with pytest.raises(ArchiveImmutableError):
        await bundle.delete()
    with pytest.raises(ArchiveImmutableError):
        await (await ArchiveLedgerEntry.first()).save()
    filing["phone"].close()


async def test_search_by_credit_code_finds_it_and_every_read_is_audited(client, server):
    filing = await approved_filing(client, server)
    reviewer, code = filing["reviewer"], filing["credit_code"]
    searches = {"credit_code": code, "name": "云帆", "applicant": "王芳", "from": "2000-01-01"}
    for key, value in searches.items():
        found = await client.get("/api/v1/archive/", params={key: value}, headers=reviewer["headers"])
        assert found.status_code == 200, found.text
        assert [i["credit_code"] for i in found.json()["items"]] == [code], key
    assert (await client.get("/api/v1/archive/", params={"applicant": "13655556666"},
                             headers=reviewer["headers"])).json()["total"] == 1
    assert (await client.get("/api/v1/archive/", params={"name": "不存在的公司"},
                             headers=reviewer["headers"])).json()["total"] == 0
    nothing = await client.get("/api/v1/archive/", headers=reviewer["headers"])
    assert nothing.status_code == 422 and nothing.json()["error"]["field"] == "credit_code"
    bad = await client.get("/api/v1/archive/", params={"from": "2026-13-01"}, headers=reviewer["headers"])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "from"
    await client.get(f"/api/v1/archive/{code}", headers=reviewer["headers"])

    audited = [(e.action, e.username) for e in await AuditEntry.filter(action__startswith="archive_").order_by("id")]
    assert audited.count(("archive_search", "archive-reviewer")) == 6  # refused searches read nothing
    assert ("archive_read", "archive-reviewer") in audited
    searched_by_name = await AuditEntry.filter(action="archive_search").order_by("id").offset(2).first()
    assert searched_by_name.detail["query"] == {"applicant": "王*"}  # personal data masked in the log too

    # Another city's staff see nothing of it.
    other = await create_staff(client, "nanning-reviewer", "reviewer", "450100")
    assert (await client.get("/api/v1/archive/", params={"credit_code": code},
                             headers=other["headers"])).json()["total"] == 0
    assert (await client.get(f"/api/v1/archive/{code}", headers=other["headers"])).status_code == 404
    filing["phone"].close()


async def test_rejected_and_withdrawn_filings_are_archived_with_their_own_retention(client, server):
    reviewer = await create_staff(client, "reject-reviewer", "reviewer", "451402")
    login = await login_applicant(client, "openid-reject")
    me = login["applicant"]["id"]
    accepted = await create_review_application(me, status="accepted", uploads_dir=server.settings.uploads.dir,
                                               flow="general", name="崇左驳回科技有限公司")
    rejected = await client.post(f"/api/v1/review/applications/{accepted.id}/reject", headers=reviewer["headers"],
                                 json={"reason": "经营范围不符合规定"})
    assert rejected.status_code == 200, rejected.text
    returned = await create_review_application(me, status="returned", uploads_dir=server.settings.uploads.dir,
                                               name="崇左撤回科技有限公司", first_submitted_at="2026-11-20T02:00:00+00:00")
    draft = await create_review_application(me, status="draft", uploads_dir=server.settings.uploads.dir,
                                            name="崇左草稿科技有限公司")
    for application in (returned, draft):
        withdrawn = await client.post(f"/api/v1/applications/{application.id}/withdraw", headers=login["headers"])
        assert withdrawn.status_code == 200, withdrawn.text

    found = (await client.get("/api/v1/archive/", params={"name": "崇左"}, headers=reviewer["headers"])).json()
    by_name = {item["entity_name"]: item for item in found["items"]}
    assert set(by_name) == {"崇左驳回科技有限公司", "崇左撤回科技有限公司"}  # a draft never submitted is no filing
    assert by_name["崇左驳回科技有限公司"]["outcome"] == "rejected"
    assert by_name["崇左驳回科技有限公司"]["retention_label"] == "30年"
    assert by_name["崇左撤回科技有限公司"]["outcome"] == "withdrawn"
    assert by_name["崇左撤回科技有限公司"]["retention_label"] == "10年"
    zipped = await client.get(by_name["崇左驳回科技有限公司"]["download_url"], headers=reviewer["headers"])
    decisions = json.loads(zipfile.ZipFile(io.BytesIO(zipped.content)).read("decisions.json"))
    assert decisions[-1]["action"] == "reject" and decisions[-1]["comments"][0]["message"] == "经营范围不符合规定"
    assert (await client.get("/api/v1/archive/verify", headers=reviewer["headers"])).json()["ok"] is True


async def test_scanned_paper_archives_become_their_own_bundle(client, server, tmp_path):
    reviewer = await create_staff(client, "scan-reviewer", "reviewer", "451402")
    code = valid_credit_code("451402", "MA5KA001")
    await create_registered("崇左老字号商贸有限公司", code, "451402")
    folder = tmp_path / "scans" / code / "1998"
    folder.mkdir(parents=True)
    (folder / "设立登记申请书.pdf").write_bytes(b"%PDF-1.4\n% scanned page\n%%EOF\n")
    (folder / "营业执照.png").write_bytes(png_bytes())
    (tmp_path / "scans" / "not-a-code").mkdir()
    (tmp_path / "scans" / "not-a-code" / "x.pdf").write_bytes(b"%PDF-1.4\n")

    result = _cli(server, "archive", "import-scans", str(tmp_path / "scans"))
    assert result.returncode == 1, result.stderr
    assert "not-a-code" in result.stderr and "1 imported" in result.stdout
    again = _cli(server, "archive", "import-scans", str(tmp_path / "scans"))
    assert "0 imported, 1 already imported" in again.stdout

    [item] = (await client.get(f"/api/v1/archive/{code}", headers=reviewer["headers"])).json()["items"]
    assert item["kind"] == "scans" and item["outcome_label"] == "纸质档案扫描件" and item["files"] == 2
    zipped = zipfile.ZipFile(io.BytesIO((await client.get(item["download_url"], headers=reviewer["headers"])).content))
    assert "scans/1998/营业执照.png" in zipped.namelist()
    assert (await client.get("/api/v1/archive/verify", headers=reviewer["headers"])).json()["ok"] is True
