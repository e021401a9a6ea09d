"""The evidence ledger: verification names the first broken entry, appends never fork, the notary package."""
import asyncio
import hashlib
import io
import json
import zipfile

from server.models.signing import EvidenceEntry
from server.services.signing import evidence
from tests.helpers import create_staff, read_application_form, token_of
from tests.test_signing import LI_ID, ZHANG_ID, _locked, _sign_person


async def _two_signatures(client):
    application, login, links = await _locked(client)
    await _sign_person(client, links["张三"], "张三", ZHANG_ID)
    await _sign_person(client, links["李四"], "李四", LI_ID)
    await read_application_form(client, token_of(links["崇左甲贸易有限公司"]["link"]))
    await client.post(f"/api/v1/sign/{token_of(links['崇左甲贸易有限公司']['link'])}", json={})
    return application


async def test_intact_chain_verifies(client):
    await _two_signatures(client)
    staff = await create_staff(client)
    response = await client.get("/api/v1/evidence/verify", headers=staff["headers"])
    assert response.status_code == 200
    body = response.json()
    last = await EvidenceEntry.get(seq=3)
    assert body == {"ok": True, "entries": 3, "head": {"seq": 3, "entry_hash": last.entry_hash}}


async def test_tampering_with_one_entry_is_named(client):
    await _two_signatures(client)
    staff = await create_staff(client)
    entry = await EvidenceEntry.get(seq=2)
    forged = json.loads(entry.payload)
    forged["ip"] = "10.9.9.9"
    await EvidenceEntry.filter(seq=2).update(payload=evidence.canonical_json(forged))
    body = (await client.get("/api/v1/evidence/verify", headers=staff["headers"])).json()
    assert body["ok"] is False and body["entries"] == 3
    assert body["first_broken"]["seq"] == 2 and body["first_broken"]["reason"] == "entry_hash"


async def test_rehashed_forgery_breaks_the_next_link(client):
    await _two_signatures(client)
    staff = await create_staff(client)
    entry = await EvidenceEntry.get(seq=1)
    forged = entry.payload.replace("test-phone/1.0", "forged-phone")
    await EvidenceEntry.filter(seq=1).update(payload=forged, entry_hash=evidence.entry_hash(entry.prev_hash, forged))
    body = (await client.get("/api/v1/evidence/verify", headers=staff["headers"])).json()
    assert body["first_broken"] == {"seq": 2, "reason": "prev_hash", "message": body["first_broken"]["message"]}


async def test_deleted_entry_is_named(client):
    await _two_signatures(client)
    staff = await create_staff(client)
    await EvidenceEntry.filter(seq=2).delete()
    body = (await client.get("/api/v1/evidence/verify", headers=staff["headers"])).json()
    assert body["ok"] is False and body["first_broken"]["seq"] == 2 and body["first_broken"]["reason"] == "missing"


async def test_verify_is_for_reviewers_and_admins(client):
    assert (await client.get("/api/v1/evidence/verify")).status_code == 401
    helper = await create_staff(client, "helper1", role="helper")
    assert (await client.get("/api/v1/evidence/verify", headers=helper["headers"])).status_code == 403


async def test_concurrent_appends_never_fork_the_chain(server, client):
    await _locked(client)
    from server.models.applications import Application

    application = await Application.first()

    async def one(i):
        return await evidence.appending(server.app.ctx.cache, lambda conn: evidence.append(
            conn, application.id, "test", {"n": i}))

    entries = await asyncio.gather(*(one(i) for i in range(12)))
    assert sorted(e.seq for e in entries) == list(range(1, 13))
    assert (await evidence.verify_chain(batch=5))["ok"] is True


async def test_the_same_link_signed_twice_at_once_signs_once(client):
    _, _, links = await _locked(client)
    token = token_of(links["崇左甲贸易有限公司"]["link"])
    await read_application_form(client, token)
    answers = await asyncio.gather(*(client.post(f"/api/v1/sign/{token}", json={}) for _ in range(3)))
    assert sorted(a.status_code for a in answers) == [200, 410, 410]
    assert await EvidenceEntry.all().count() == 1


async def test_evidence_package_holds_entries_images_chain_and_readme(client):
    application = await _two_signatures(client)
    staff = await create_staff(client)
    response = await client.get(f"/api/v1/review/applications/{application.id}/evidence.zip", headers=staff["headers"])
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert {"README.txt", "entries.jsonl", "chain.csv"} <= set(names)
    readme = archive.read("README.txt").decode()
    assert "手工核验" in readme and "How to verify by hand" in readme
    entries = [json.loads(line) for line in archive.read("entries.jsonl").decode().splitlines()]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    prev = evidence.GENESIS
    for entry in entries:
        assert entry["prev_hash"] == prev
        assert hashlib.sha256((entry["prev_hash"] + entry["payload"]).encode()).hexdigest() == entry["entry_hash"]
        prev = entry["entry_hash"]
    images = [name for name in names if name.startswith("signatures/")]
    assert len(images) == 3
    image_hashes = {hashlib.sha256(archive.read(name)).hexdigest() for name in images}
    assert image_hashes == {json.loads(e["payload"])["signature_image_sha256"] for e in entries}
    assert archive.read("chain.csv").decode().splitlines()[0] == "seq,prev_hash,entry_hash"


async def test_evidence_package_is_scoped_to_the_staff_authority(client):
    application = await _two_signatures(client)
    elsewhere = await create_staff(client, "nanning1", authority="450100")
    response = await client.get(f"/api/v1/review/applications/{application.id}/evidence.zip",
                                headers=elsewhere["headers"])
    assert response.status_code == 404
    assert (await client.get("/api/v1/review/applications/x/evidence.zip",
                             headers=elsewhere["headers"])).status_code == 404
