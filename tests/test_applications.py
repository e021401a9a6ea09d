"""Applications: create for every business and entity type, partial saves, exact validation, missing, flow options."""
from datetime import date, timedelta

import pytest

from server.models.applications import Application, Party
from tests.helpers import (
    create_approved_account,
    create_draft,
    create_registered,
    login_applicant,
    person_form,
    png_bytes,
    valid_credit_code,
    valid_resident_id,
)

ENTITY_TYPES = ["llc", "joint_stock", "sole_proprietorship", "partnership", "cooperative", "individual_business", "branch"]
NAMES = {"llc": "崇左云帆科技有限公司", "joint_stock": "崇左云帆科技股份有限公司", "sole_proprietorship": "崇左云帆商贸中心",
         "partnership": "崇左云帆投资中心（有限合伙）", "cooperative": "崇左云帆种植专业合作社",
         "individual_business": "崇左市江州区云帆米粉店", "branch": "崇左海川科技有限公司江州分公司"}


async def patch(client, app_id, headers, body):
    return await client.patch(f"/api/v1/applications/{app_id}", json=body, headers=headers)


def fields(app):
    return {item["field"] for item in app["missing"]}


@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
async def test_establish_draft_for_every_entity_type_lists_what_is_missing(client, entity_type):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], "establish", entity_type, name=NAMES[entity_type])
    assert app["status"] == "draft" and app["name"] == NAMES[entity_type] and app["credit_code"] is None
    assert "entity.address" in fields(app) and "attachments.premises_proof" in fields(app)
    assert "attachments.application_form" not in fields(app)  # the 申请书 is generated, never uploaded
    assert "name" not in fields(app)
    assert all(item["message"] for item in app["missing"])
    kinds = {item["attachment_kind"] for item in app["missing"] if "attachment_kind" in item}
    from server.services.applications.materials import required_materials
    assert kinds == {m["kind"] for m in required_materials("establish", entity_type)
                     if not m.get("when") and m.get("generated") != "always"}


@pytest.mark.parametrize("business_type", ["change", "deregister", "simple_deregister"])
@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
async def test_change_and_deregistration_start_from_the_registered_entity(client, business_type, entity_type):
    me = await login_applicant(client)
    entity = await create_registered(NAMES[entity_type], entity_type=entity_type)
    await create_approved_account(me["applicant"]["id"], entity)
    app = await create_draft(client, me["headers"], business_type, entity_type, credit_code=entity.credit_code)
    assert app["name"] == NAMES[entity_type] and app["credit_code"] == entity.credit_code
    assert "parties" in fields(app)


async def test_change_needs_an_entity_registered_in_the_authoritys_city(client):
    me = await login_applicant(client)
    elsewhere = await create_registered("南宁云帆科技有限公司", authority_code="450103")
    for credit_code, status in [(None, 422), ("123", 422), (valid_credit_code("451402", "NQMUCH00"), 422),
                                (elsewhere.credit_code, 422)]:
        body = {"business_type": "change", "entity_type": "llc", "authority_code": "451402", "credit_code": credit_code}
        response = await client.post("/api/v1/applications", json=body, headers=me["headers"])
        assert response.status_code == status and response.json()["error"]["field"] == "credit_code"
    wrong_type = await create_registered("崇左云帆商贸中心", entity_type="sole_proprietorship")
    body = {"business_type": "change", "entity_type": "llc", "authority_code": "451402", "credit_code": wrong_type.credit_code}
    response = await client.post("/api/v1/applications", json=body, headers=me["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == "entity_type"
    assert await Application.all().count() == 0


async def test_change_records_what_changes(client):
    me = await login_applicant(client)
    entity = await create_registered("崇左云帆科技有限公司")
    await create_approved_account(me["applicant"]["id"], entity)
    app = await create_draft(client, me["headers"], "change", "llc", credit_code=entity.credit_code)
    changes = [{"item": "address", "before": "崇左市江州区新民路1号", "after": "崇左市江州区友谊大道8号"},
               {"item": "name", "after": "崇左海川科技有限公司"}]
    saved = (await patch(client, app["id"], me["headers"], {"entity": {"changes": changes}})).json()
    assert saved["entity"]["changes"][0]["after"] == "崇左市江州区友谊大道8号" and "entity.changes" not in fields(saved)
    bad = await patch(client, app["id"], me["headers"], {"entity": {"changes": [{"item": "colour", "after": "红"}]}})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "entity.changes[0].item"
    renamed = await patch(client, app["id"], me["headers"], {"name": "崇左海川科技有限公司"})
    assert renamed.status_code == 422 and renamed.json()["error"]["field"] == "name"


async def test_partial_saves_keep_everything_typed_so_far(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    await patch(client, app["id"], me["headers"], {"entity": {"address": "崇左市江州区新民路1号"}})
    await patch(client, app["id"], me["headers"], {"entity": {"registered_capital": "100.5"}})
    saved = (await client.get(f"/api/v1/applications/{app['id']}", headers=me["headers"])).json()
    assert saved["entity"] == {"address": "崇左市江州区新民路1号", "registered_capital": "100.5"}
    cleared = (await patch(client, app["id"], me["headers"], {"entity": {"address": None}})).json()
    assert cleared["entity"] == {"registered_capital": "100.5"} and "entity.address" in fields(cleared)


@pytest.mark.parametrize("entity,field", [
    ({"registered_capital": "abc"}, "entity.registered_capital"),
    ({"registered_capital": -1}, "entity.registered_capital"),
    ({"registered_capital": True}, "entity.registered_capital"),
    ({"address": 5}, "entity.address"),
    ({"address": "路" * 201}, "entity.address"),
    ({"operating_term": "永远"}, "entity.operating_term"),
    ({"contact_phone": "12345"}, "entity.contact_phone"),
    ({"notice_start": "2025-01-01"}, "entity.notice_start"),
    ({"favourite_colour": "red"}, "entity.favourite_colour"),
])
async def test_invalid_form_value_is_422_naming_the_field_and_nothing_is_saved(client, entity, field):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    await patch(client, app["id"], me["headers"], {"entity": {"address": "崇左市江州区新民路1号"}})
    before = await Application.get(id=app["id"])
    response = await patch(client, app["id"], me["headers"], {"entity": {"business_scope": "软件开发", **entity},
                                                              "parties": [person_form()]})
    assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text
    after = await Application.get(id=app["id"])
    assert after.entity == before.entity and after.materials_version == before.materials_version
    assert await Party.all().count() == 0


@pytest.mark.parametrize("party,field", [
    ({**person_form(), "id_number": "451402199003071230"}, "parties[1].id_number"),
    ({**person_form(), "id_number": valid_resident_id("45140219900230123")}, "parties[1].id_number"),
    ({**person_form(), "id_number": valid_resident_id("45140229900307123")}, "parties[1].id_number"),
    ({**person_form(), "phone": "23800138000"}, "parties[1].phone"),
    ({**person_form(), "id_type": "driving_licence"}, "parties[1].id_type"),
    ({**person_form(), "id_type": "hk_macao_permit", "id_number": "X1234567"}, "parties[1].id_number"),
    ({**person_form(), "role": "king"}, "parties[1].role"),
    ({**person_form(), "kind": "robot"}, "parties[1].kind"),
    ({**person_form(), "name": ""}, "parties[1].name"),
    ({**person_form(), "credit_code": valid_credit_code()}, "parties[1].credit_code"),
    ({**person_form(role="investor"), "share_percent": "0"}, "parties[1].share_percent"),
    ({**person_form(role="investor"), "share_percent": "100.5"}, "parties[1].share_percent"),
    ({**person_form(role="investor"), "share_percent": "33.333333"}, "parties[1].share_percent"),
    ({**person_form(role="director"), "share_percent": "10"}, "parties[1].share_percent"),
    ({"role": "investor", "kind": "enterprise", "name": "某公司", "origin": "mars"}, "parties[1].origin"),
    ({"role": "investor", "kind": "enterprise", "name": "某公司", "credit_code": "91451402MA5K00001X"},
     "parties[1].credit_code"),
    ({"role": "legal_rep", "kind": "enterprise", "name": "某公司", "origin": "home_province"}, "parties[1].kind"),
    ({**person_form(), "id": "not-a-uuid"}, "parties[1].id"),
    ({**person_form(), "nickname": "x"}, "parties[1].nickname"),
])
async def test_invalid_party_is_422_naming_it_and_nothing_is_saved(client, party, field):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    response = await patch(client, app["id"], me["headers"], {"parties": [person_form(role="liaison"), party]})
    assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text
    assert await Party.all().count() == 0


async def test_leap_day_id_is_accepted(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    leap = person_form(body17="45140220000229123")
    response = await patch(client, app["id"], me["headers"], {"parties": [leap]})
    assert response.status_code == 200 and response.json()["parties"][0]["id_number"] == leap["id_number"]


async def test_parties_replace_the_whole_list_and_keep_their_ids(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    first = (await patch(client, app["id"], me["headers"], {"parties": [person_form(), person_form("liaison", "李四")]})).json()
    kept = first["parties"][0]
    second = (await patch(client, app["id"], me["headers"], {"parties": [{**person_form(), "id": kept["id"]}]})).json()
    assert [p["id"] for p in second["parties"]] == [kept["id"]]
    stranger = await patch(client, app["id"], me["headers"],
                           {"parties": [{**person_form(), "id": "00000000-0000-0000-0000-000000000001"}]})
    assert stranger.status_code == 422 and stranger.json()["error"]["field"] == "parties[0].id"
    assert await Party.all().count() == 1


async def test_investor_shares_must_total_exactly_100(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    thirds = [person_form("investor", f"股东{i}", share_percent=share) for i, share in enumerate(["33.3333", "33.3333", "33.3333"])]
    saved = (await patch(client, app["id"], me["headers"], {"parties": [person_form(), *thirds]})).json()
    assert any("合计应为100%" in item["message"] and "99.9999" in item["message"] for item in saved["missing"])
    exact = [person_form("investor", f"股东{i}", share_percent=share) for i, share in enumerate(["33.3333", "33.3333", "33.3334"])]
    saved = (await patch(client, app["id"], me["headers"], {"parties": [person_form(), *exact]})).json()
    assert not any("出资比例" in item["message"] for item in saved["missing"])


async def test_llc_has_at_most_50_shareholders(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    many = [person_form("investor", f"股东{i}", share_percent="2") for i in range(50)]
    assert (await patch(client, app["id"], me["headers"], {"parties": many})).status_code == 200
    too_many = await patch(client, app["id"], me["headers"], {"parties": many + [person_form("investor", "多余")]})
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "parties"


@pytest.mark.parametrize("entity_type,parties,message", [
    ("llc", [], "法定代表人"),
    ("llc", [person_form()], "投资人"),
    ("sole_proprietorship", [person_form()], "投资人"),
    ("partnership", [person_form(), person_form("investor", "合伙人一")], "至少2名"),
    ("cooperative", [person_form(), *[person_form("investor", f"成员{i}") for i in range(4)]], "至少5名"),
    ("branch", [], "法定代表人（负责人"),
    ("joint_stock", [person_form(), person_form("investor", "发起人", share_percent="100")], "董事"),
])
async def test_required_roles_are_reported_in_missing(client, entity_type, parties, message):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], entity_type=entity_type, name=NAMES[entity_type])
    saved = (await patch(client, app["id"], me["headers"], {"parties": parties})).json()
    assert any(item["field"] == "parties" and message in item["message"] for item in saved["missing"]), saved["missing"]


async def test_sole_proprietorship_investor_is_one_natural_person(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], entity_type="sole_proprietorship", name=NAMES["sole_proprietorship"])
    enterprise = {"role": "investor", "kind": "enterprise", "name": "某公司", "origin": "home_province"}
    response = await patch(client, app["id"], me["headers"], {"parties": [enterprise]})
    assert response.status_code == 422 and response.json()["error"]["field"] == "parties[0].kind"
    two = await patch(client, app["id"], me["headers"], {"parties": [person_form("investor"), person_form("investor", "李四")]})
    assert two.status_code == 422 and two.json()["error"]["field"] == "parties"


async def test_branch_and_individual_business_register_no_investors(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], entity_type="branch", name=NAMES["branch"])
    response = await patch(client, app["id"], me["headers"], {"parties": [person_form("investor")]})
    assert response.status_code == 422 and "不登记" in response.json()["error"]["message"]


def simple_notice(days_ago_end: int, length: int) -> dict:
    end = date.today() - timedelta(days=days_ago_end)
    return {"notice_start": (end - timedelta(days=length - 1)).isoformat(), "notice_end": end.isoformat()}


async def test_simple_deregistration_needs_a_20_day_notice_without_objections(client):
    me = await login_applicant(client)
    entity = await create_registered(NAMES["llc"])
    await create_approved_account(me["applicant"]["id"], entity)
    app = await create_draft(client, me["headers"], "simple_deregister", "llc", credit_code=entity.credit_code)
    short = await patch(client, app["id"], me["headers"], {"entity": simple_notice(5, 19)})
    assert short.status_code == 422 and short.json()["error"]["field"] == "entity.notice_end"
    saved = (await patch(client, app["id"], me["headers"], {"entity": {**simple_notice(-3, 20), "objections_raised": False}})).json()
    assert any(item["field"] == "entity.notice_end" and "届满" in item["message"] for item in saved["missing"])
    saved = (await patch(client, app["id"], me["headers"], {"entity": {**simple_notice(1, 20), "objections_raised": True}})).json()
    assert not any(item["field"] == "entity.notice_end" for item in saved["missing"])
    assert any(item["field"] == "entity.objections_raised" and "一般注销" in item["message"] for item in saved["missing"])


async def test_individual_business_simple_deregistration_has_no_notice(client):
    me = await login_applicant(client)
    entity = await create_registered(NAMES["individual_business"], entity_type="individual_business")
    await create_approved_account(me["applicant"]["id"], entity)
    app = await create_draft(client, me["headers"], "simple_deregister", "individual_business",
                                   credit_code=entity.credit_code)
    assert "entity.notice_start" not in fields(app)
    response = await patch(client, app["id"], me["headers"], {"entity": simple_notice(1, 20)})
    assert response.status_code == 422 and response.json()["error"]["field"] == "entity.notice_start"


async def test_general_deregistration_carries_liquidation_facts(client):
    me = await login_applicant(client)
    entity = await create_registered(NAMES["llc"])
    await create_approved_account(me["applicant"]["id"], entity)
    app = await create_draft(client, me["headers"], "deregister", "llc", credit_code=entity.credit_code)
    assert {"entity.liquidation_group_filed_on", "entity.creditor_notice_start", "entity.tax_cleared"} <= fields(app)
    saved = (await patch(client, app["id"], me["headers"], {"entity": {
        "creditor_notice_start": date.today().isoformat(), "tax_cleared": False}})).json()
    assert any("45日" in item["message"] for item in saved["missing"])
    assert any(item["field"] == "entity.tax_cleared" for item in saved["missing"])


async def complete_llc(client, headers, name=NAMES["llc"], legal_rep=None, investors=None):
    app = await create_draft(client, headers, name=name)
    entity = {"address": "崇左市江州区新民路1号", "business_scope": "软件开发", "contact_phone": "0771-7821234",
              "operating_term": "长期", "registered_capital": "100"}
    parties = [legal_rep or person_form(), person_form("liaison", "李四", "45140219850101123"),
               *(investors or [person_form("investor", "王五", "45140219800101123", share_percent="100")])]
    saved = await patch(client, app["id"], headers, {"entity": entity, "parties": parties})
    assert saved.status_code == 200, saved.text
    for kind in ("application_form", "premises_proof", "id_document", "articles_of_association", "appointment_documents",
                 "investor_qualification"):
        if any(item.get("attachment_kind") == kind for item in saved.json()["missing"]):
            uploaded = await client.post(f"/api/v1/applications/{app['id']}/attachments", data={"kind": kind},
                                         files={"file": ("a.png", png_bytes(), "image/png")}, headers=headers)
            assert uploaded.status_code == 201, uploaded.text
    return (await client.get(f"/api/v1/applications/{app['id']}", headers=headers)).json()


async def test_complete_application_has_nothing_missing_and_both_flows_open(client):
    me = await login_applicant(client)
    app = await complete_llc(client, me["headers"])
    assert app["missing"] == []
    options = (await client.get(f"/api/v1/applications/{app['id']}/flow-options", headers=me["headers"])).json()
    assert options == {"cloud": {"available": True, "reasons": []}, "general": {"available": True, "reasons": []}}


async def test_incomplete_application_offers_no_flow(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    options = (await client.get(f"/api/v1/applications/{app['id']}/flow-options", headers=me["headers"])).json()
    assert not options["general"]["available"] and options["general"]["reasons"][0]["code"] == "incomplete"


async def test_foreign_enterprise_investor_excludes_cloud_only(client):
    me = await login_applicant(client)
    foreign = {"role": "investor", "kind": "enterprise", "name": "Acme Ltd", "origin": "foreign", "share_percent": "100"}
    app = await complete_llc(client, me["headers"], investors=[foreign])
    options = (await client.get(f"/api/v1/applications/{app['id']}/flow-options", headers=me["headers"])).json()
    assert [r["code"] for r in options["cloud"]["reasons"]] == ["foreign_investor"]
    assert options["general"]["available"]


async def test_legal_rep_without_resident_id_excludes_cloud(client):
    me = await login_applicant(client)
    rep = {"role": "legal_rep", "kind": "person", "name": "陈大文", "id_type": "hk_macao_permit",
           "id_number": "H12345678", "phone": "13800138000"}
    app = await complete_llc(client, me["headers"], legal_rep=rep)
    options = (await client.get(f"/api/v1/applications/{app['id']}/flow-options", headers=me["headers"])).json()
    assert [r["code"] for r in options["cloud"]["reasons"]] == ["legal_rep_not_resident_id"]
    assert options["general"]["available"]


async def test_both_exclusions_are_reported_together(client):
    me = await login_applicant(client)
    rep = {"role": "legal_rep", "kind": "person", "name": "John", "id_type": "passport", "id_number": "E12345678",
           "phone": "13800138000"}
    foreign = {"role": "investor", "kind": "enterprise", "name": "Acme Ltd", "origin": "foreign", "share_percent": "100"}
    app = await complete_llc(client, me["headers"], legal_rep=rep, investors=[foreign])
    options = (await client.get(f"/api/v1/applications/{app['id']}/flow-options", headers=me["headers"])).json()
    assert {r["code"] for r in options["cloud"]["reasons"]} == {"foreign_investor", "legal_rep_not_resident_id"}


async def test_name_taken_by_someone_else_is_missing(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    assert "name" not in fields(app)
    await create_registered("云帆（崇左）科技有限公司")
    app = (await client.get(f"/api/v1/applications/{app['id']}", headers=me["headers"])).json()
    assert "name" in fields(app)


async def test_name_reserved_by_me_stays_usable(client):
    me = await login_applicant(client)
    body = {"name": NAMES["llc"], "entity_type": "llc", "authority_code": "451402"}
    assert (await client.post("/api/v1/names/reservations", json=body, headers=me["headers"])).status_code == 201
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    assert "name" not in fields(app)


async def test_another_applicants_application_is_404(client):
    alice = await login_applicant(client, "alice")
    bob = await login_applicant(client, "bob")
    app = await create_draft(client, alice["headers"], name=NAMES["llc"])
    base = f"/api/v1/applications/{app['id']}"
    assert (await client.get(base, headers=bob["headers"])).status_code == 404
    assert (await client.patch(base, json={"entity": {"address": "x"}}, headers=bob["headers"])).status_code == 404
    assert (await client.get(base + "/flow-options", headers=bob["headers"])).status_code == 404
    assert (await client.post(base + "/withdraw", headers=bob["headers"])).status_code == 404
    upload = await client.post(base + "/attachments", data={"kind": "premises_proof"},
                               files={"file": ("a.png", png_bytes(), "image/png")}, headers=bob["headers"])
    assert upload.status_code == 404
    assert (await client.get(base, headers=alice["headers"])).json()["entity"] == {}
    assert (await client.get("/api/v1/applications", headers=bob["headers"])).json() == []
    assert (await client.get("/api/v1/applications/not-a-uuid", headers=bob["headers"])).status_code == 404


async def test_withdraw_moves_a_draft_to_withdrawn_once(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    first = await client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=me["headers"])
    assert first.status_code == 200 and first.json()["status"] == "withdrawn"
    again = await client.post(f"/api/v1/applications/{app['id']}/withdraw", headers=me["headers"])
    assert again.status_code == 409


async def test_locked_application_refuses_every_materials_write(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    await Application.filter(id=app["id"]).update(status="locked_signing")
    base = f"/api/v1/applications/{app['id']}"
    assert (await client.patch(base, json={"entity": {"address": "崇左"}}, headers=me["headers"])).status_code == 409
    assert (await client.patch(base, json={"parties": [person_form()]}, headers=me["headers"])).status_code == 409
    upload = await client.post(base + "/attachments", data={"kind": "premises_proof"},
                               files={"file": ("a.png", png_bytes(), "image/png")}, headers=me["headers"])
    assert upload.status_code == 409
    stored = await Application.get(id=app["id"])
    assert stored.entity == {} and stored.materials_version == 1 and await Party.all().count() == 0


@pytest.mark.parametrize("body,field", [
    ({"business_type": "merge", "entity_type": "llc", "authority_code": "451402"}, "business_type"),
    ({"business_type": "establish", "entity_type": "bank", "authority_code": "451402"}, "entity_type"),
    ({"business_type": "establish", "entity_type": "llc", "authority_code": "999999"}, "authority_code"),
    ({"business_type": "establish", "entity_type": "llc"}, "authority_code"),
    ({"business_type": "establish", "entity_type": "llc", "authority_code": "451402", "credit_code": "91451402MA5K000011"},
     "credit_code"),
    ({"business_type": "establish", "entity_type": "llc", "authority_code": "451402", "name": "云" * 61}, "name"),
    ({"business_type": "establish", "entity_type": "llc", "authority_code": "451402", "colour": 1}, "colour"),
])
async def test_bad_create_input_is_422_and_creates_nothing(client, body, field):
    me = await login_applicant(client)
    response = await client.post("/api/v1/applications", json=body, headers=me["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text
    assert await Application.all().count() == 0


@pytest.mark.parametrize("body", [b"[1,2]", b"{bad json", b"\"text\""])
async def test_malformed_patch_is_400(client, body):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    response = await client.patch(f"/api/v1/applications/{app['id']}", content=body,
                                  headers={**me["headers"], "Content-Type": "application/json"})
    assert response.status_code == 400


@pytest.mark.parametrize("body,field", [
    ({"entity": [1]}, "entity"), ({"parties": {"a": 1}}, "parties"), ({"parties": [1]}, "parties[0]"),
    ({"name": 5}, "name"), ({"status": "approved"}, "status"),
])
async def test_wrongly_shaped_patch_is_422(client, body, field):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    response = await patch(client, app["id"], me["headers"], body)
    assert response.status_code == 422 and response.json()["error"]["field"] == field
    assert (await Application.get(id=app["id"])).status == "draft"


async def test_change_of_name_is_checked_like_a_new_name(client):
    me = await login_applicant(client)
    entity = await create_registered("崇左云帆科技有限公司")
    await create_registered("崇左海川科技有限公司")
    await create_approved_account(me["applicant"]["id"], entity)
    app = await create_draft(client, me["headers"], "change", "llc", credit_code=entity.credit_code)
    taken = (await patch(client, app["id"], me["headers"], {"entity": {"changes": [
        {"item": "name", "before": "崇左云帆科技有限公司", "after": "崇左海川科技有限公司"}]}})).json()
    assert any(item["field"] == "entity.changes" and "名称" in item["message"] for item in taken["missing"])
    free = (await patch(client, app["id"], me["headers"], {"entity": {"changes": [
        {"item": "name", "before": "崇左云帆科技有限公司", "after": "崇左山岚科技有限公司"}]}})).json()
    assert not any(item["field"] == "entity.changes" for item in free["missing"])


async def test_my_list_shows_status_and_what_is_missing(client):
    me = await login_applicant(client)
    app = await create_draft(client, me["headers"], name=NAMES["llc"])
    mine = (await client.get("/api/v1/applications", headers=me["headers"])).json()
    assert [item["id"] for item in mine] == [app["id"]]
    assert mine[0]["status"] == "draft" and mine[0]["snapshot_hash"] is None and mine[0]["missing"] == app["missing"]


async def test_my_list_tells_each_application_its_own_missing(client):
    """The list reads every row's parties and attachments at once: each row must still get only its own."""
    me = await login_applicant(client)
    bare = await create_draft(client, me["headers"], name=NAMES["llc"])
    with_party = await create_draft(client, me["headers"], name=NAMES["llc"])
    await patch(client, with_party["id"], me["headers"], {"parties": [person_form()]})
    with_file = await create_draft(client, me["headers"])
    upload = await client.post(f"/api/v1/applications/{with_file['id']}/attachments", data={"kind": "premises_proof"},
                               files={"file": ("a.png", png_bytes(), "image/png")}, headers=me["headers"])
    assert upload.status_code == 201, upload.text
    mine = (await client.get("/api/v1/applications", headers=me["headers"])).json()
    assert [item["id"] for item in mine] == [with_file["id"], with_party["id"], bare["id"]]
    for item in mine:
        alone = (await client.get(f"/api/v1/applications/{item['id']}", headers=me["headers"])).json()
        assert item["missing"] == alone["missing"]
    missing = {item["id"]: {entry["field"] for entry in item["missing"]} for item in mine}
    assert missing[with_party["id"]] != missing[bare["id"]]
    assert "attachments.premises_proof" in missing[bare["id"]] - missing[with_file["id"]]
