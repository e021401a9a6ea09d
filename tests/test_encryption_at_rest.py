"""Personal data at rest: after a whole journey the database holds none of its ID numbers, phone numbers, signing
tokens or SMS codes in the clear; rotate-keys moves every value to a new key and the journey carries on."""
import asyncio
import base64
import os
import subprocess

import pytest
from tortoise import connections
from wxmock.phone import PhoneClient

from server import crypto
from server.config import CryptoSettings
from server.db import is_postgres
from server.services.data_keys import encrypted_tables, rotate_keys
from tests.helpers import (
    create_staff,
    delivered_sms,
    person_form,
    token_of,
    valid_resident_id,
)

NAME = "崇左密存科技有限公司"
APPLICANT_PHONE = "13977001000"
CONTACT_PHONE = "13977001009"
CODE_PHONE = "13977001008"
ZHAO = dict(name="赵敏", body17="45140219850611457", phone="13977001001")
QIAN = dict(name="钱坤", body17="45142119930309862", phone="13977001002")
PASSPORT = "G77001003"
PARTIES = [
    person_form("legal_rep", **ZHAO),
    person_form("liaison", **ZHAO),
    person_form("investor", share_percent="60", **ZHAO),
    person_form("investor", share_percent="30", **QIAN),
    {"role": "investor", "kind": "person", "name": "Anna Berg", "id_type": "passport", "id_number": PASSPORT,
     "phone": "13977001003", "share_percent": "10"},
]
ENTITY = {"address": "崇左市江州区友谊大道8号", "business_scope": "软件开发", "contact_phone": CONTACT_PHONE,
          "operating_term": "长期", "registered_capital": "50"}


async def _apply_and_lock(client, server) -> tuple[dict, dict]:
    """The applicant's part up to 云帮办通过; the links texted to the signatories, and everything secret so far."""
    run = asyncio.to_thread
    reviewer = await create_staff(client, "rest-reviewer", "reviewer", "451402")
    phone = PhoneClient(server.base_url, "openid-at-rest")
    await run(phone.login)
    await run(phone.bind_phone, APPLICANT_PHONE)
    # A verification code, so one is somewhere to be found if it is kept in the clear.
    requested = await client.post("/api/v1/mp/sms-code", json={"phone": CODE_PHONE},
                                  headers={"Authorization": f"Bearer {phone.token}"})
    assert requested.status_code == 200, requested.text
    filled = await run(phone.fill_application, "establish", "llc", "451402", name=NAME, entity=ENTITY, parties=PARTIES)
    assert (await run(phone.submit, filled["id"], "cloud", "at-rest-submit"))["status"] == "cloud_review"
    locked = await client.post(f"/api/v1/review/applications/{filled['id']}/approve-lock", headers=reviewer["headers"])
    assert locked.status_code == 200, locked.text
    texted = await delivered_sms(client, server)
    links = {m["phone"]: m["params"]["link"] for m in texted if m["template"] == "signing_link"}
    assert set(links) == {ZHAO["phone"], QIAN["phone"]}
    codes = [m["params"]["code"] for m in texted if m["template"] == "sms_code"]
    assert len(codes) == 1
    secrets = {
        "id numbers": [valid_resident_id(ZHAO["body17"]), valid_resident_id(QIAN["body17"]), PASSPORT],
        "phones": [APPLICANT_PHONE, CONTACT_PHONE, CODE_PHONE, ZHAO["phone"], QIAN["phone"], "13977001003"],
        "signing tokens": [token_of(link) for link in links.values()],
        "sms codes": codes,
    }
    phone.close()
    return {"application_id": filled["id"], "reviewer": reviewer, "links": links}, secrets


async def _sign_and_accept(client, server, journey: dict) -> None:
    run = asyncio.to_thread
    for signer_phone, link in journey["links"].items():
        signer = PhoneClient(server.base_url, f"openid-at-rest-{signer_phone}")
        await run(signer.open_link, link)
        await run(signer.read_document, link)
        await run(signer.sign_link, link)
        signer.close()
    await delivered_sms(client, server)
    app_id = journey["application_id"]
    accepted = await client.post(f"/api/v1/review/applications/{app_id}/accept",
                                 headers=journey["reviewer"]["headers"])
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text


async def _database_dump(settings) -> bytes:
    if is_postgres(settings):
        url = settings.database.url.replace("postgres://", "postgresql://", 1)
        dumped = await asyncio.to_thread(subprocess.run, ["pg_dump", "--data-only", url], capture_output=True,
                                         check=True, timeout=120)
        return dumped.stdout
    path = settings.database.url[len("sqlite://"):]
    # Read by another process: closing a file descriptor of the database in this one would drop the POSIX locks the
    # server's SQLite connection holds on it. The write-ahead log holds what is not checkpointed yet.
    files = [name for name in (path, path + "-wal") if os.path.exists(name)]
    read = await asyncio.to_thread(subprocess.run, ["cat", *files], capture_output=True, check=True, timeout=60)
    return read.stdout


def _found_in(dump: bytes, secrets: dict) -> dict:
    return {kind: [value for value in values if value.encode() in dump]
            for kind, values in secrets.items() if any(value.encode() in dump for value in values)}


async def test_the_database_keeps_no_id_number_phone_token_or_code_of_a_journey(client, server):
    journey, secrets = await _apply_and_lock(client, server)
    await _sign_and_accept(client, server, journey)
    dump = await _database_dump(server.settings)
    assert NAME.encode() in dump  # the dump is real: what is not personal is there in the clear
    assert _found_in(dump, secrets) == {}


async def _values_under(key_id: str) -> int:
    """Encrypted values in the database under this key id, counted from the raw columns."""
    conn = connections.get("default")
    total = 0
    for table in encrypted_tables():
        for column in table.columns:
            rows = await conn.execute_query_dict(
                f'SELECT count(*) AS n FROM "{table.table}" WHERE substr("{column}", 1, {len(key_id) + 4}) = '
                f"'v1:{key_id}:'")
            total += rows[0]["n"]
    return total


@pytest.fixture
def new_data_key(server):
    """Settings with a second data key current; the development one stays listed so old values still decrypt."""
    secret = server.settings.secret_key
    keys = {crypto.DEVELOPMENT_KEY_ID: crypto.development_key(secret, "data key"), "k2": bytes(range(32))}
    rotated = server.settings.model_copy(update={"crypto": CryptoSettings(
        current_key_id="k2", keys={key_id: base64.b64encode(key).decode() for key_id, key in keys.items()},
        index_key=base64.b64encode(crypto.development_key(secret, "blind index")).decode())})
    yield rotated
    crypto.configure(server.settings)


async def test_the_journey_carries_on_after_rotate_keys(client, server, new_data_key):
    journey, secrets = await _apply_and_lock(client, server)
    before = await _values_under(crypto.DEVELOPMENT_KEY_ID)
    assert before > 0

    crypto.configure(new_data_key)
    done = await rotate_keys(batch_size=3)
    assert sum(done.values()) > 0 and done["party"] == len(PARTIES)
    assert await _values_under(crypto.DEVELOPMENT_KEY_ID) == 0
    assert await _values_under("k2") >= before
    # Resumable: a second run finds nothing left to do.
    assert sum((await rotate_keys(batch_size=3)).values()) == 0

    # Lookups by blind index still find the rows, and every value still reads back.
    assert [m["phone"] for m in await delivered_sms(client, server, ZHAO["phone"])]
    await _sign_and_accept(client, server, journey)
    assert _found_in(await _database_dump(server.settings), secrets) == {}
