"""自主核名: parsing, each naming rule, each conflict kind, warnings, reservations and the race for one name."""
import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from server.models.names import NameReservation
from tests.helpers import create_registered, login_applicant


async def check(client, name, entity_type="llc", authority_code="451402", headers=None):
    response = await client.post("/api/v1/names/check", json={"name": name, "entity_type": entity_type,
                                                               "authority_code": authority_code}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def codes(result, level=None):
    return {p["code"] for p in result["problems"] if level is None or p["level"] == level}


@pytest.mark.parametrize("name,parsed", [
    ("崇左云帆科技有限公司", ("崇左市", "云帆", "科技", "有限公司")),
    ("崇左市云帆科技有限公司", ("崇左市", "云帆", "科技", "有限公司")),
    ("云帆（崇左）科技有限公司", ("崇左市", "云帆", "科技", "有限公司")),
    ("云帆(崇左)科技有限公司", ("崇左市", "云帆", "科技", "有限公司")),
    ("广西云帆网络科技有限公司", ("广西壮族自治区", "云帆", "网络科技", "有限公司")),
    ("广西壮族自治区云帆网络科技有限公司", ("广西壮族自治区", "云帆", "网络科技", "有限公司")),
    ("崇左江州云帆商贸有限责任公司", ("江州区", "云帆", "商贸", "有限责任公司")),
    ("崇左市江州区云帆有限公司", ("江州区", "云帆", None, "有限公司")),
])
async def test_name_is_parsed_into_its_four_parts(client, name, parsed):
    result = await check(client, name)
    assert (result["parsed"]["region"], result["parsed"]["trade_name"], result["parsed"]["industry"],
            result["parsed"]["org_form"]) == parsed
    assert result["available"], result


async def test_free_name_is_available_without_login(client):
    result = await check(client, "崇左云帆科技有限公司")
    assert {key: result[key] for key in ("available", "name", "problems", "conflicts", "exceptions")} == {
        "available": True, "name": "崇左云帆科技有限公司", "problems": [], "conflicts": [], "exceptions": []}
    assert {key: result["parsed"][key] for key in ("region", "trade_name", "industry", "org_form")} == {
        "region": "崇左市", "trade_name": "云帆", "industry": "科技", "org_form": "有限公司"}


@pytest.mark.parametrize("name,entity_type,code", [
    ("崇左云科技有限公司", "llc", "trade_name_too_short"),
    ("云帆科技有限公司", "llc", "region_missing"),
    ("南宁市云帆科技有限公司", "llc", "region_mismatch"),
    ("扶绥云帆科技有限公司", "llc", "region_mismatch"),
    ("崇左云帆科技", "llc", "org_form_missing"),
    ("崇左云帆科技有限公司", "sole_proprietorship", "org_form_mismatch"),
    ("崇左云帆投资有限公司（有限合伙）", "partnership", "org_form_mismatch"),
    ("崇左云帆科技有限公司", "partnership", "org_form_mismatch"),
    ("崇左云帆科技店", "llc", "org_form_mismatch"),
    ("崇左云帆科技有限公司", "individual_business", "org_form_mismatch"),
    ("崇左云帆科技有限公司", "branch", "org_form_mismatch"),
    ("崇左ABC科技有限公司", "llc", "non_chinese"),
    ("崇左云帆8科技有限公司", "llc", "non_chinese"),
    ("崇左中华云帆科技有限公司", "llc", "restricted_word"),
    ("崇左国际云帆贸易有限公司", "llc", "restricted_word"),
    ("崇左全国云帆科技有限公司", "llc", "restricted_word"),
    ("崇左联合国云帆科技有限公司", "llc", "forbidden_word"),
    ("崇左解放军云帆科技有限公司", "llc", "forbidden_word"),
    ("崇左共产党云帆科技有限公司", "llc", "forbidden_word"),
    ("崇左人民政府云帆科技有限公司", "llc", "forbidden_word"),
    ("崇左色情云帆科技有限公司", "llc", "forbidden_word"),
    ("崇左支那云帆科技有限公司", "llc", "forbidden_word"),
    ("崇左第一云帆科技有限公司", "llc", "forbidden_word"),
])
async def test_each_naming_rule_blocks_with_a_chinese_reason(client, name, entity_type, code):
    result = await check(client, name, entity_type)
    assert not result["available"]
    assert code in codes(result, "error"), result
    problem = next(p for p in result["problems"] if p["code"] == code)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["message"])


@pytest.mark.parametrize("name,entity_type", [
    ("崇左云帆工作室", "sole_proprietorship"),
    ("崇左云帆商贸中心", "sole_proprietorship"),
    ("崇左云帆投资中心（有限合伙）", "partnership"),
    ("崇左云帆咨询事务所（普通合伙）", "partnership"),
    ("崇左云帆种植专业合作社", "cooperative"),
    ("崇左市江州区阿明米粉店", "individual_business"),
    ("崇左云帆科技股份有限公司", "joint_stock"),
    ("崇左云帆科技有限公司江州分公司", "branch"),
])
async def test_org_forms_that_fit_the_entity_type(client, name, entity_type):
    result = await check(client, name, entity_type)
    assert result["available"], result


async def test_same_trade_name_same_industry_registered_conflicts(client):
    await create_registered("崇左云帆科技有限公司")
    result = await check(client, "云帆（崇左）科技有限责任公司")
    assert not result["available"]
    assert result["conflicts"][0]["name"] == "崇左云帆科技有限公司" and result["conflicts"][0]["kind"] == "registered"


async def test_region_position_and_org_form_do_not_make_names_different(client):
    await create_registered("云帆（江州）科技有限公司")
    assert not (await check(client, "崇左云帆科技有限责任公司"))["available"]


async def test_same_trade_name_other_industry_is_free(client):
    await create_registered("崇左云帆餐饮有限公司")
    assert (await check(client, "崇左云帆科技有限公司"))["available"]


async def test_name_without_industry_conflicts_with_any_industry(client):
    await create_registered("崇左云帆有限公司")
    result = await check(client, "崇左云帆科技有限公司")
    assert not result["available"] and "未使用行业" in result["conflicts"][0]["reason"]
    assert not (await check(client, "崇左云帆有限公司", authority_code="451400"))["available"]


async def test_proposed_name_without_industry_conflicts_with_any(client):
    await create_registered("崇左云帆餐饮有限公司")
    assert not (await check(client, "崇左云帆有限公司"))["available"]


async def test_conflicts_are_within_one_city_only(client):
    await create_registered("南宁云帆科技有限公司", authority_code="450103")
    assert (await check(client, "崇左云帆科技有限公司"))["available"]
    await create_registered("扶绥云帆科技有限公司", authority_code="451421")
    assert not (await check(client, "崇左云帆科技有限公司"))["available"]


async def test_recently_cancelled_name_conflicts_and_old_one_does_not(client):
    recent = (datetime.now(timezone.utc) - timedelta(days=100)).date().isoformat()
    long_ago = (datetime.now(timezone.utc) - timedelta(days=400)).date().isoformat()
    await create_registered("崇左云帆科技有限公司", status="cancelled", status_date=recent)
    await create_registered("崇左海川科技有限公司", status="cancelled", status_date=long_ago)
    result = await check(client, "崇左云帆科技有限公司")
    assert not result["available"] and result["conflicts"][0]["kind"] == "cancelled"
    assert (await check(client, "崇左海川科技有限公司"))["available"]


async def test_recently_changed_name_conflicts(client):
    recent = (datetime.now(timezone.utc) - timedelta(days=30)).date().isoformat()
    await create_registered("崇左云帆科技有限公司", status="changed", status_date=recent)
    result = await check(client, "崇左云帆科技有限公司")
    assert result["conflicts"][0]["kind"] == "changed"


async def test_name_given_up_by_a_registered_change_stays_protected(client):
    from tests.helpers import valid_credit_code

    code = valid_credit_code("451402", "CHANGE01")
    await create_registered("崇左云帆科技有限公司", credit_code=code)
    await create_registered("崇左海川科技有限公司", credit_code=code)
    result = await check(client, "崇左云帆科技有限公司")
    assert not result["available"] and result["conflicts"][0]["kind"] == "changed"


async def test_live_reservation_conflicts_for_others_not_for_the_holder(client):
    alice = await login_applicant(client, "alice")
    bob = await login_applicant(client, "bob")
    body = {"name": "崇左云帆科技有限公司", "entity_type": "llc", "authority_code": "451402"}
    reserved = await client.post("/api/v1/names/reservations", json=body, headers=alice["headers"])
    assert reserved.status_code == 201
    assert reserved.json()["name"] == "崇左云帆科技有限公司"
    assert (await check(client, "崇左云帆科技有限公司", headers=alice["headers"]))["available"]
    other = await check(client, "云帆（崇左）科技有限公司", headers=bob["headers"])
    assert not other["available"] and other["conflicts"][0]["kind"] == "reserved"
    refused = await client.post("/api/v1/names/reservations", json=body, headers=bob["headers"])
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "name"


async def test_reservation_lasts_the_configured_period_and_expired_ones_free_the_name(client, server):
    alice = await login_applicant(client, "alice")
    bob = await login_applicant(client, "bob")
    body = {"name": "崇左云帆科技有限公司", "entity_type": "llc", "authority_code": "451402"}
    reserved = (await client.post("/api/v1/names/reservations", json=body, headers=alice["headers"])).json()
    expires = datetime.fromisoformat(reserved["expires_at"])
    days = server.settings.names.reservation_days
    assert abs((expires - datetime.now(timezone.utc)) - timedelta(days=days)) < timedelta(minutes=5)
    await NameReservation.all().update(expires_at=datetime.now(timezone.utc) - timedelta(seconds=1))
    assert (await check(client, "崇左云帆科技有限公司"))["available"]
    again = await client.post("/api/v1/names/reservations", json=body, headers=bob["headers"])
    assert again.status_code == 201 and await NameReservation.all().count() == 1


async def test_reserving_twice_returns_the_same_reservation(client):
    alice = await login_applicant(client, "alice")
    body = {"name": "崇左云帆科技有限公司", "entity_type": "llc", "authority_code": "451402"}
    first = (await client.post("/api/v1/names/reservations", json=body, headers=alice["headers"])).json()
    second = (await client.post("/api/v1/names/reservations", json=body, headers=alice["headers"])).json()
    assert first["id"] == second["id"]
    mine = (await client.get("/api/v1/names/reservations", headers=alice["headers"])).json()
    assert [r["id"] for r in mine] == [first["id"]]


async def test_two_applicants_racing_for_one_name_exactly_one_wins(client):
    racers = [await login_applicant(client, f"racer-{i}") for i in range(6)]
    names = ["崇左云帆科技有限公司", "云帆（崇左）科技有限公司", "崇左江州云帆科技有限责任公司"]

    async def reserve(index, racer):
        body = {"name": names[index % 3], "entity_type": "llc", "authority_code": "451402"}
        return (await client.post("/api/v1/names/reservations", json=body, headers=racer["headers"])).status_code

    statuses = await asyncio.gather(*(reserve(i, r) for i, r in enumerate(racers)))
    assert sorted(statuses) == [201] + [409] * 5
    assert await NameReservation.all().count() == 1


async def test_reservation_of_an_unavailable_name_is_409_with_the_verdict(client):
    alice = await login_applicant(client, "alice")
    body = {"name": "崇左中国云帆科技有限公司", "entity_type": "llc", "authority_code": "451402"}
    response = await client.post("/api/v1/names/reservations", json=body, headers=alice["headers"])
    assert response.status_code == 409
    assert "restricted_word" in {p["code"] for p in response.json()["error"]["check"]["problems"]}
    assert await NameReservation.all().count() == 0


async def test_reservation_needs_login(client):
    body = {"name": "崇左云帆科技有限公司", "entity_type": "llc", "authority_code": "451402"}
    assert (await client.post("/api/v1/names/reservations", json=body)).status_code == 401


async def test_similar_sounding_name_is_a_warning_not_a_block(client):
    await create_registered("崇左韵帆科技有限公司")
    result = await check(client, "崇左云帆科技有限公司")
    assert result["available"] and codes(result, "warning") == {"similar_sound"} and result["conflicts"] == []


async def test_near_synonym_name_is_a_warning_not_a_block(client):
    await create_registered("崇左兴华科技有限公司")
    result = await check(client, "崇左星华科技有限公司")
    assert result["available"] and "near_synonym" in codes(result, "warning")


async def test_branch_conflicts_only_with_the_same_branch_name(client):
    await create_registered("崇左云帆科技有限公司江州分公司", entity_type="branch")
    assert not (await check(client, "崇左云帆科技有限公司江州分公司", "branch"))["available"]
    assert (await check(client, "崇左云帆科技有限公司扶绥分公司", "branch"))["available"]


@pytest.mark.parametrize("body,field", [
    ({"name": "", "entity_type": "llc", "authority_code": "451402"}, "name"),
    ({"name": "   ", "entity_type": "llc", "authority_code": "451402"}, "name"),
    ({"name": "崇左云帆科技有限公司", "entity_type": "bank", "authority_code": "451402"}, "entity_type"),
    ({"name": "崇左云帆科技有限公司", "entity_type": "llc", "authority_code": "4514"}, "authority_code"),
    ({"name": "崇左云帆科技有限公司", "entity_type": "llc", "authority_code": "990000"}, "authority_code"),
    ({"name": "崇左" + "云" * 80 + "有限公司", "entity_type": "llc", "authority_code": "451402"}, "name"),
    ({"name": 12, "entity_type": "llc", "authority_code": "451402"}, "name"),
    ({"entity_type": "llc", "authority_code": "451402"}, "name"),
])
async def test_bad_check_input_is_422_naming_the_field(client, body, field):
    response = await client.post("/api/v1/names/check", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == field


async def test_staff_reuse_the_same_check_function():
    from server.services.applications import names

    await create_registered("崇左云帆科技有限公司")
    result = await names.check("崇左云帆科技有限公司", "llc", "451400")
    assert not result["available"]


async def test_check_with_a_stale_token_still_answers(client):
    result = await check(client, "崇左云帆科技有限公司", headers={"Authorization": "Bearer expired-token"})
    assert result["available"]


async def test_reservation_race_on_the_service_directly():
    """Without HTTP in between: concurrent reserve() calls for one 字号, exactly one succeeds."""
    from server.errors import Conflict
    from server.models.accounts import Applicant
    from server.services.applications import names

    people = [await Applicant.create(openid=f"direct-{i}") for i in range(5)]
    outcomes = await asyncio.gather(*(names.reserve(p.id, "崇左云帆科技有限公司", "llc", "451402", 60) for p in people),
                                    return_exceptions=True)
    assert sum(isinstance(o, dict) for o in outcomes) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if not isinstance(o, dict))
