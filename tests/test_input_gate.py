"""The one input gate (issue 11 probes): characters, JSON depth, integer ranges; stored text that cannot break a view;
the console cookie on the JSON API only with the CSRF header."""
import pytest
from tortoise import connections

from server.migrations import __name__ as migrations_package
from server.models.applications import Application
from tests.helpers import (
    create_draft,
    create_review_application,
    create_staff,
    login_applicant,
)
from tests.test_review_console import console_session, csrf_of


def _raw(body: str, headers: dict) -> dict:
    return {"content": body.encode(), "headers": {**headers, "Content-Type": "application/json"}}


@pytest.mark.parametrize("text, field", [
    (r'{"entity": {"address": "崇左\udc00"}}', "entity.address"),
    (r'{"entity": {"address": "a\u0000b"}}', "entity.address"),
    (r'{"parties": [{"name": "x\u0007"}]}', "parties[0].name"),
    (r'{"entity": {"bad\u0001key": "x"}}', "entity.bad\x01key"),
])
async def test_forbidden_characters_are_422_naming_the_field_and_nothing_is_saved(client, text, field):
    applicant = await login_applicant(client)
    draft = await create_draft(client, applicant["headers"])
    answer = await client.patch(f"/api/v1/applications/{draft['id']}", **_raw(text, applicant["headers"]))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert (await client.get(f"/api/v1/applications/{draft['id']}", headers=applicant["headers"])).json() == draft


async def test_newline_is_text_in_long_fields_but_not_in_short_ones(client):
    applicant = await login_applicant(client)
    short = await client.post("/api/v1/applications", json={"business_type": "establish", "entity_type": "llc",
                                                           "authority_code": "451402", "credit_code": "91\n"},
                              headers=applicant["headers"])
    assert short.status_code == 422 and short.json()["error"]["field"] == "credit_code"
    draft = await create_draft(client, applicant["headers"])
    long = await client.patch(f"/api/v1/applications/{draft['id']}", headers=applicant["headers"],
                              json={"entity": {"business_scope": "软件开发\n技术服务\t咨询"}})
    assert long.status_code == 200, long.text


async def test_query_text_with_control_characters_is_422(client):
    admin = await create_staff(client, "gate-admin", "admin", "451400")
    answer = await client.get("/api/v1/admin/points?type=bank%00branch", headers=admin["headers"])
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "type"


async def test_json_nested_deeper_than_32_levels_is_400(client):
    applicant = await login_applicant(client)
    for depth in (33, 100_000):
        answer = await client.post("/api/v1/names/check", **_raw("[" * depth + "]" * depth, applicant["headers"]))
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "malformed"
    nested = '{"name": ' + "[" * 30 + "]" * 30 + "}"
    answer = await client.post("/api/v1/names/check", **_raw(nested, applicant["headers"]))
    assert answer.status_code == 422


@pytest.mark.parametrize("path", [
    "/guides/files/99999999999999999999/x",
    "/api/v1/admin/points/99999999999999999999",
    "/api/v1/admin/points/2147483648/scans",
    "/api/v1/admin/points/-2147483649",
])
async def test_integers_out_of_range_in_paths_are_404(client, path):
    admin = await create_staff(client, "range-admin", "admin", "451400")
    answer = await client.get(path, headers=admin["headers"])
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path, field", [
    ("/api/v1/review/enterprise-accounts?page=2147483648", "page"),
    ("/api/v1/review/queue?page_size=2147483648", "page_size"),
    ("/api/v1/review/audit?page_size=99999999999999999999", "page_size"),
    ("/api/v1/archive/?page=-2147483649", "page"),
])
async def test_integers_out_of_int32_in_queries_are_422(client, path, field):
    admin = await create_staff(client, "query-admin", "admin", "451400")
    answer = await client.get(path, headers=admin["headers"])
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


async def _store_bad_text(application_id, text: str) -> None:
    """What an applicant could store before the gate (raw SQL: the models' own encoder would refuse it)."""
    import json

    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    entity = json.dumps({"address": text, "business_scope": "软件开发", "contact_phone": "13800138000",
                         "operating_term": "长期", "registered_capital": "100"})
    sql = ("UPDATE application SET entity = $1, name = $2 WHERE id = $3" if postgres
           else "UPDATE application SET entity = ?, name = ? WHERE id = ?")
    await conn.execute_query(sql, [entity, "崇左云帆\x01科技有限公司", application_id if postgres else str(application_id)])


async def _repair() -> None:
    import importlib

    from tortoise import Tortoise

    repair = importlib.import_module(f"{migrations_package}.0020_input_repair")

    class Editor:
        client = connections.get("default")

    await repair.repair_stored_text(_Apps(Tortoise.apps["yct"]), Editor())


async def test_every_view_survives_stored_control_characters(client, server):
    applicant = await login_applicant(client)
    await create_staff(client, "console-http", "reviewer", "451400")
    application = await create_review_application(applicant["applicant"]["id"], status="cloud_review",
                                                  uploads_dir=server.settings.uploads.dir)
    await _store_bad_text(application.id, "江州区\x02新民路\x01")
    mine = await client.get(f"/api/v1/applications/{application.id}", headers=applicant["headers"])
    assert mine.status_code == 200, mine.text
    async with console_session(server) as http:
        page = await http.get(f"/console/applications/{application.id}")
        assert page.status_code == 200, page.text
        assert "江州区新民路" in page.text
        locked = await http.post(f"/console/applications/{application.id}/approve-lock",
                                 data={"csrf_token": csrf_of(page)})
        assert locked.status_code == 303, locked.text
    assert (await Application.get(id=application.id)).status == "locked_signing"


async def test_the_migration_repairs_a_stored_surrogate_and_the_case_can_be_approved(client, server):
    """The probe: a form field holding "\\udc00" made the applicant's GET, the console page and approve-and-lock
    answer 500. PostgreSQL's jsonb refuses such a value itself; SQLite stored it."""
    if connections.get("default").capabilities.dialect != "sqlite":
        pytest.skip("PostgreSQL cannot store an unpaired surrogate")
    applicant = await login_applicant(client)
    await create_staff(client, "console-http", "reviewer", "451400")
    application = await create_review_application(applicant["applicant"]["id"], status="cloud_review",
                                                  uploads_dir=server.settings.uploads.dir)
    await _store_bad_text(application.id, "江州区\udc00新民路\x01")
    await _repair()
    repaired = await Application.get(id=application.id)
    assert repaired.entity["address"] == "江州区\ufffd新民路" and repaired.name == "崇左云帆科技有限公司"
    assert (await client.get(f"/api/v1/applications/{application.id}", headers=applicant["headers"])).status_code == 200
    async with console_session(server) as http:
        page = await http.get(f"/console/applications/{application.id}")
        assert page.status_code == 200, page.text
        locked = await http.post(f"/console/applications/{application.id}/approve-lock",
                                 data={"csrf_token": csrf_of(page)})
        assert locked.status_code == 303, locked.text


class _Apps:
    def __init__(self, models: dict):
        self.models = models

    def get_models_iterable(self):
        return self.models.values()


async def test_cookie_session_needs_the_csrf_header_for_changes_on_the_json_api(client, server):
    applicant = await login_applicant(client)
    await create_staff(client, "console-http", "reviewer", "451400")
    application = await create_review_application(applicant["applicant"]["id"], status="cloud_review",
                                                  uploads_dir=server.settings.uploads.dir)
    url = f"/api/v1/review/applications/{application.id}/approve-lock"
    async with console_session(server) as http:
        page = await http.get(f"/console/applications/{application.id}")
        token = csrf_of(page)
        assert (await http.get(f"/api/v1/review/applications/{application.id}")).status_code == 200
        foreign = await http.post(url, json={}, headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "forbidden"
        assert (await http.post(url, json={}, headers={"X-CSRF-Token": "0" * 64})).status_code == 403
        assert (await Application.get(id=application.id)).status == "cloud_review"
        done = await http.post(url, json={}, headers={"X-CSRF-Token": token})
        assert done.status_code == 200, done.text


async def test_bearer_token_needs_no_csrf_header(client):
    admin = await create_staff(client, "bearer-admin", "admin", "451400")
    client.cookies.clear()
    answer = await client.post("/api/v1/staff/logout", headers=admin["headers"])
    assert answer.status_code == 200
