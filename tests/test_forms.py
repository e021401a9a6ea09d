"""The form contract (GET /api/v1/forms/{business_type}/{entity_type}): what the mini-program renders its forms from.

Expectations from SPEC (an LLC has 1–50 shareholders, one legal representative) and materials.yaml's 一次性告知.
"""
import asyncio
import re

from wxmock.phone import PhoneClient
from tests.helpers import person_form

_CJK = re.compile(r"[\u4e00-\u9fff]")


async def test_the_llc_establishment_form_lists_fields_roles_and_attachments(client):
    response = await client.get("/api/v1/forms/establish/llc")
    assert response.status_code == 200, response.text
    form = response.json()
    fields = {field["key"]: field for field in form["fields"]}
    assert fields["address"]["type"] == "text" and "住所" in fields["address"]["label"]
    assert fields["address"]["required"] and fields["address"]["max_length"] == 200
    capital = fields["registered_capital"]
    assert (capital["label"], capital["unit"], capital["type"], capital["required"]) == ("注册资本", "万元", "decimal", True)
    assert fields["operating_term"]["options"][0] == "长期"
    roles = {rule["role"]: rule for rule in form["party_roles"]}
    assert (roles["investor"]["min"], roles["investor"]["max"]) == (1, 50)
    assert roles["investor"]["kinds"] == ["person", "enterprise"] and roles["investor"]["shares_total"] == 100
    assert (roles["legal_rep"]["min"], roles["legal_rep"]["max"], roles["legal_rep"]["kinds"]) == (1, 1, ["person"])
    assert "resident_id" in roles["legal_rep"]["id_types"]
    kinds = {item["kind"]: item for item in form["attachments"]}
    assert kinds["premises_proof"]["required"] and kinds["premises_proof"]["label"] == "住所（经营场所）使用证明"
    assert kinds["investor_qualification"]["required"] is False
    assert all(_CJK.search(item["label"]) for item in form["attachments"])
    # The 登记申请书 is generated and signed online: nothing to upload.
    assert "application_form" not in kinds
    assert [doc["kind"] for doc in form["generated_documents"]][0] == "application_form"


async def test_a_form_for_an_unknown_type_is_404(client):
    assert (await client.get("/api/v1/forms/establish/spaceship")).status_code == 404
    assert (await client.get("/api/v1/forms/merge/llc")).status_code == 404


async def test_an_individual_business_names_no_investors(client):
    form = (await client.get("/api/v1/forms/establish/individual_business")).json()
    assert "investor" not in {rule["role"] for rule in form["party_roles"]}
    assert {field["key"]: field for field in form["fields"]}["employees"]["unit"] == "人"


async def test_the_openapi_contract_types_the_form(client):
    spec = (await client.get("/docs/openapi.json")).json()
    ok = spec["paths"]["/api/v1/forms/{business_type}/{entity_type}"]["get"]["responses"]["200"]["content"]
    schema = spec["components"]["schemas"][ok["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert "*/*" not in ok and {"fields", "party_roles", "attachments", "generated_documents"} <= set(schema["properties"])
    field = spec["components"]["schemas"]["FormField"]["properties"]
    assert {"key", "label", "type", "required", "options", "min", "max", "max_length", "unit"} <= set(field)


async def test_the_scripted_phone_builds_a_complete_draft_from_the_contract_alone(server):
    people = [person_form("legal_rep", "张三"), person_form("liaison", "李四", "45140219850101123"),
              person_form("investor", "王五", "45140219800101123")]
    answers = {"住所（经营场所）": "崇左市江州区新民路1号", "经营范围": "软件开发", "联系电话": "13800138000",
               "注册资本": "100"}

    def journey():
        with PhoneClient(server.base_url, "openid-form-contract") as phone:
            phone.login()
            draft = phone.draft_from_form("establish", "llc", answers, people, name="崇左云帆科技有限公司")
            return draft, phone.flow_options(draft["id"])

    draft, options = await asyncio.to_thread(journey)
    assert draft["missing"] == [], draft["missing"]
    assert draft["entity"]["registered_capital"] == "100" and options["cloud"]["available"]
