"""自主核名 to the letter of the 企业名称登记管理规定 (2020) and its 实施办法 (2023).

Each group quotes the article it tests; valid and invalid names are built from that text. Divisions are every
county-level and higher division of China, industry terms come from GB/T 4754-2017, and a same-字号 conflict is
lifted by an investment relationship.
"""
from datetime import datetime, timedelta, timezone

import pytest

from server.models.names import RegisteredEntity
from tests.helpers import create_application, create_registered, create_staff, enterprise, login_applicant, \
    valid_credit_code

ARTICLE_7 = "市辖区名称在企业名称中使用时应当同时冠以其所属的设区的市的行政区划名称"
ARTICLE_8 = "县级以上地方行政区划名称、行业或者经营特点不得作为字号，另有含义的除外"
ARTICLE_9 = "企业名称中的行业或者经营特点应当根据企业的主营业务和国民经济行业分类标准标明"
ARTICLE_17_1 = "已经登记或者在保留期内的企业名称，有投资关系的除外"
ARTICLE_17_2 = "已经注销或者变更登记未满1年的原企业名称，有投资关系或者受让企业名称的除外"


async def check(client, name, authority_code="451402", **extra):
    body = {"name": name, "entity_type": "llc", "authority_code": authority_code, **extra}
    response = await client.post("/api/v1/names/check", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def errors(result):
    return {problem["code"] for problem in result["problems"] if problem["level"] == "error"}


def decision(result, code):
    return next(item for item in result["decisions"] if item["code"] == code)


# 规定第七条 --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["江州区海岚餐饮有限公司", "广西江州区海岚餐饮有限公司", "海岚（江州区）餐饮有限公司"])
async def test_city_district_without_its_city_is_refused(client, name):
    """第七条：“市辖区名称在企业名称中使用时应当同时冠以其所属的设区的市的行政区划名称”。"""
    result = await check(client, name)
    assert not result["available"] and "district_without_city" in errors(result)
    problem = decision(result, "district_without_city")
    assert "崇左市江州区" in problem["message"] and problem["rule"] == "《企业名称登记管理规定》第七条"


@pytest.mark.parametrize("name", ["崇左市江州区海岚餐饮有限公司", "崇左江州海岚餐饮有限公司", "海岚（崇左市江州区）餐饮有限公司",
                                  "广西崇左市江州区海岚餐饮有限公司"])
async def test_city_district_after_its_city_is_accepted(client, name):
    result = await check(client, name)
    assert result["available"], result["problems"]
    assert result["parsed"]["region"] == "江州区" and result["parsed"]["trade_name"] == "海岚"


async def test_a_county_stands_alone_and_a_division_elsewhere_is_not_the_applicants(client):
    """第七条：“企业名称中的行政区划名称应当是企业所在地的县级以上地方行政区划名称”。"""
    assert (await check(client, "扶绥海岚餐饮有限公司", authority_code="451421"))["available"]
    for name in ("义乌海岚餐饮有限公司", "北京市海岚餐饮有限公司", "融水海岚餐饮有限公司", "扶绥海岚餐饮有限公司"):
        result = await check(client, name)
        assert "region_mismatch" in errors(result), (name, result["problems"])
    elsewhere = await check(client, "义乌海岚餐饮有限公司", authority_code="330782")
    assert elsewhere["available"] and elsewhere["parsed"]["region"] == "义乌市", elsewhere["problems"]
    assert (await check(client, "北京市朝阳区海岚餐饮有限公司", authority_code="110105"))["available"]
    assert "district_without_city" in errors(await check(client, "朝阳区海岚餐饮有限公司", authority_code="110105"))


async def test_a_leading_word_that_is_not_the_applicants_division_stays_in_a_bracketed_name(client):
    result = await check(client, "东方红（崇左）科技有限公司")
    assert result["available"], result["problems"]
    assert (result["parsed"]["region"], result["parsed"]["trade_name"]) == ("崇左市", "东方红")


# 规定第八条第二款 --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,code", [
    ("崇左市南宁科技有限公司", "trade_name_is_division"),
    ("崇左市崇左科技有限公司", "trade_name_is_division"),
    ("崇左市义乌科技有限公司", "trade_name_is_division"),
    ("崇左市科技有限公司", "trade_name_is_industry"),
    ("崇左市餐饮科技有限公司", "trade_name_is_industry"),
])
async def test_division_or_industry_word_as_trade_name_is_refused(client, name, code):
    """第八条：“县级以上地方行政区划名称、行业或者经营特点不得作为字号，另有含义的除外”。"""
    result = await check(client, name)
    assert not result["available"] and code in errors(result), result["problems"]
    assert decision(result, code)["rule"].startswith("《企业名称登记管理规定》第八条")


async def test_division_word_with_another_meaning_may_be_a_trade_name(client):
    result = await check(client, "崇左市江南科技有限公司")
    assert result["available"], result["problems"]
    accepted = decision(result, "trade_name_other_meaning")
    assert "南宁市江南区" not in accepted["message"] and "江南区" in accepted["message"] and "另有含义" in accepted["message"]


# 规定第九条 --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,industry,code", [
    ("崇左市云帆稻谷种植有限公司", "稻谷种植", "0111"),
    ("崇左市云帆软件开发有限公司", "软件开发", "651"),
    ("崇左市云帆餐饮有限公司", "餐饮", "62"),
    ("崇左市云帆科技有限公司", "科技", "M"),
    ("崇左市云帆建筑工程有限公司", "建筑工程", "E"),
    ("崇左市云帆花卉种植有限公司", "花卉种植", "0143"),
    ("崇左市云帆旅游文化传媒有限公司", "旅游文化传媒", "87"),
])
async def test_industry_terms_follow_the_national_classification(client, name, industry, code):
    """第九条：“企业名称中的行业或者经营特点应当根据企业的主营业务和国民经济行业分类标准标明”。"""
    result = await check(client, name)
    assert result["available"], result["problems"]
    assert result["parsed"]["trade_name"] == "云帆" and result["parsed"]["industry"] == industry
    assert code in {item["code"] for item in result["parsed"]["industry_classes"]}
    assert "GB/T 4754-2017" in decision(result, "industry")["message"]


@pytest.mark.parametrize("registered,proposed,same", [
    ("崇左市云帆稻谷种植有限公司", "崇左市云帆谷物种植有限公司", True),
    ("崇左市云帆房地产有限公司", "崇左市云帆地产有限公司", True),
    ("崇左市云帆科技有限公司", "崇左市云帆科技服务有限公司", True),
    ("崇左市云帆实业有限公司", "崇左市云帆餐饮有限公司", True),
    ("崇左市云帆稻谷种植有限公司", "崇左市云帆餐饮有限公司", False),
    ("崇左市云帆网络科技有限公司", "崇左市云帆科技有限公司", False),
])
async def test_same_industry_is_judged_by_the_major_group(client, registered, proposed, same):
    """第十七条 “同行业”：两个行业用语在国民经济行业分类中属同一大类。"""
    await create_registered(registered)
    result = await check(client, proposed)
    assert result["available"] is not same, result["conflicts"]


# 规定第十七条 ------------------------------------------------------------------------------------------------------

async def test_subsidiary_founded_by_the_registered_enterprise_may_share_its_trade_name(client):
    """第十七条第（一）项：“已经登记或者在保留期内的企业名称，有投资关系的除外”。"""
    parent_code = valid_credit_code("451402", "YF000001")
    await create_registered("崇左市云帆科技有限公司", credit_code=parent_code)
    alone = await check(client, "崇左市云帆科技服务有限公司")
    assert not alone["available"]
    conflict = alone["conflicts"][0]
    assert conflict["name"] == "崇左市云帆科技有限公司" and conflict["rule"].endswith("第十七条第（一）项")
    assert "投资关系" in conflict["reason"] and "统一社会信用代码" in conflict["reason"]
    assert decision(alone, "conflict")["level"] == "error" and "conflict" not in {p["code"] for p in alone["problems"]}

    founded = await check(client, "崇左市云帆科技服务有限公司",
                          investors=[{"name": "崇左市云帆科技有限公司", "credit_code": parent_code}])
    assert founded["available"] and founded["conflicts"] == [], founded["problems"]
    (exception,) = founded["exceptions"]
    assert exception["relation"] == "invested_by_registered" and exception["name"] == "崇左市云帆科技有限公司"
    assert "有投资关系" in exception["reason"] and exception["rule"].endswith("第十七条第（一）项")
    assert decision(founded, "investment_relationship")["level"] == "pass"

    by_name = await check(client, "崇左市云帆科技服务有限公司", investors=[{"name": "崇左市云帆科技有限公司"}])
    assert by_name["available"]
    someone_else = await check(client, "崇左市云帆科技服务有限公司", investors=[
        {"name": "崇左市云帆科技有限公司", "credit_code": valid_credit_code("451402", "YF000002")}])
    assert not someone_else["available"]


async def test_enterprise_renaming_after_one_it_invests_in_uses_the_registrys_investors(client):
    investor_code = valid_credit_code("451402", "HC000001")
    await create_registered("崇左市海川投资有限公司", credit_code=investor_code)
    await create_registered("崇左市云帆科技有限公司", investors=[{"name": "崇左市海川投资有限公司",
                                                                 "credit_code": investor_code}])
    renamed = await check(client, "崇左市云帆科技服务有限公司", credit_code=investor_code)
    assert renamed["available"], renamed["conflicts"]
    assert renamed["exceptions"][0]["relation"] == "invests_in_registered"
    stranger = await check(client, "崇左市云帆科技服务有限公司", credit_code=valid_credit_code("451402", "HC000002"))
    assert not stranger["available"] and "不属于有投资关系的除外情形" in stranger["conflicts"][0]["reason"]


async def test_recently_cancelled_name_of_an_investor_is_lifted_too(client):
    """第十七条第（二）项：“已经注销或者变更登记未满1年的原企业名称，有投资关系或者受让企业名称的除外”。"""
    code = valid_credit_code("451402", "YX000001")
    recent = (datetime.now(timezone.utc) - timedelta(days=100)).date().isoformat()
    await create_registered("崇左市云帆科技有限公司", credit_code=code, status="cancelled", status_date=recent)
    blocked = await check(client, "崇左市云帆科技有限公司")
    assert blocked["conflicts"][0]["rule"].endswith("第十七条第（二）项")
    lifted = await check(client, "崇左市云帆科技有限公司", investors=[{"name": "崇左市云帆科技有限公司", "credit_code": code}])
    assert lifted["available"] and lifted["exceptions"][0]["kind"] == "cancelled"


async def test_a_reservation_is_not_lifted_by_naming_it_as_investor(client):
    holder = await login_applicant(client, "holder")
    body = {"name": "崇左市云帆科技有限公司", "entity_type": "llc", "authority_code": "451402"}
    assert (await client.post("/api/v1/names/reservations", json=body, headers=holder["headers"])).status_code == 201
    result = await check(client, "崇左市云帆科技服务有限公司", investors=[{"name": "崇左市云帆科技有限公司"}])
    assert not result["available"] and result["conflicts"][0]["kind"] == "reserved"


async def test_bad_investor_is_422_naming_the_field(client):
    body = {"name": "崇左市云帆科技有限公司", "entity_type": "llc", "authority_code": "451402",
            "investors": [{"name": "崇左市云帆科技有限公司", "credit_code": "91451402XXXXXXXXXX"}]}
    response = await client.post("/api/v1/names/check", json=body)
    assert response.status_code == 422 and response.json()["error"]["field"] == "investors[0].credit_code"


# Explanations ---------------------------------------------------------------------------------------------------

async def test_every_decision_is_explained_with_its_article(client):
    result = await check(client, "崇左市江州区云帆科技有限公司")
    assert [item["code"] for item in result["decisions"]] == [
        "characters", "region", "trade_name", "industry", "org_form", "content", "no_conflict"]
    for item in result["decisions"]:
        assert item["level"] == "pass" and item["rule"].startswith("《企业名称登记管理规定》第")
        assert any("\u4e00" <= char <= "\u9fff" for char in item["message"])
    assert "崇左市江州区" in decision(result, "region")["message"]
    assert decision(result, "no_conflict")["message"].startswith("同一企业登记机关（崇左市）")


async def test_staff_see_the_investment_exception_on_the_application(client):
    applicant = await login_applicant(client, "subsidiary")
    parent_code = valid_credit_code("451402", "YF000003")
    await create_registered("崇左市云帆科技有限公司", credit_code=parent_code)
    application = await create_application(
        applicant["applicant"]["id"], [enterprise("崇左市云帆科技有限公司", credit_code=parent_code, share="100")],
        status="cloud_review", name="崇左市云帆科技服务有限公司")
    reviewer = await create_staff(client, "reviewer-names", "reviewer", "451402")
    detail = await client.get(f"/api/v1/review/applications/{application.id}", headers=reviewer["headers"])
    name_check = detail.json()["name_check"]
    assert name_check["available"] and name_check["exceptions"][0]["relation"] == "invested_by_registered"
    page = await client.get(f"/console/applications/{application.id}", headers=reviewer["headers"])
    assert page.status_code == 200 and "有投资关系" in page.text and "第十七条第（一）项" in page.text


async def test_approval_records_the_enterprise_investors_and_deregistration_keeps_them(client, server):
    from server.models.applications import Party
    from tests.helpers import create_review_application

    applicant = await login_applicant(client, "approved")
    application = await create_review_application(applicant["applicant"]["id"], "451402", "accepted",
                                                  uploads_dir=server.settings.uploads.dir)
    investor_code = valid_credit_code("451402", "HC000003")
    await Party.create(application=application, position=9, role="investor", kind="enterprise",
                       name="崇左市海川投资有限公司", origin="home_province", credit_code=investor_code)
    reviewer = await create_staff(client, "reviewer-registry", "reviewer", "451402")
    approved = await client.post(f"/api/v1/review/applications/{application.id}/approve", headers=reviewer["headers"])
    code = approved.json()["credit_code"]
    stored = await RegisteredEntity.get(credit_code=code)
    assert stored.investors == [{"name": "崇左市海川投资有限公司", "credit_code": investor_code}]

    from server.services.applications.registry import upsert_entity

    await upsert_entity(stored.name, code, "451402", "llc", "cancelled")
    assert (await RegisteredEntity.get(credit_code=code)).investors == stored.investors


def test_shipped_data_covers_the_whole_country_and_the_whole_classification():
    """GB/T 4754-2017（含第1号修改单）：20个门类、97个大类、473个中类、1382个小类; 31 provinces plus 台湾、香港、澳门."""
    from collections import Counter

    from server.services.applications import divisions, industries

    classes, _ = industries.classification()
    assert Counter(item.level for item in classes.values()) == {"门类": 20, "大类": 97, "中类": 473, "小类": 1382}
    levels = Counter(item.level for item in divisions.all_divisions().values())
    assert levels["province"] == 34 and levels["city"] >= 333 and levels["county"] >= 2800
    assert [item.short for item in divisions.named("新疆")] == ["新疆"] and divisions.division("451402").name == "江州区"
