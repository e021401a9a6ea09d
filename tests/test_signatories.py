"""Who must sign (有效签名判定): the four rules of seed 000, their mixes, and the applicant's signatories route."""
from server.services.signing.signatories import required_signatories
from tests.helpers import create_application, enterprise, login_applicant, person, resident_id


async def _signatories(client, parties, **kwargs):
    login = await login_applicant(client)
    application = await create_application(login["applicant"]["id"], parties, **kwargs)
    return await required_signatories(application, "45"), application, login


async def test_person_with_resident_id_must_sign_by_face(client):
    (entry,), _, _ = await _signatories(client, [person("张三", role="legal_rep")])
    assert (entry["required"], entry["method"], entry["kind"], entry["role"]) == (True, "face", "person", "legal_rep")


async def test_person_with_other_id_needs_no_signature(client):
    signatories, _, _ = await _signatories(client, [
        person("John Smith", id_type="passport", id_number="E12345678"),
        person("陈大文", id_type="hk_macao_permit", id_number="H12345678"),
    ])
    assert [(s["required"], s["method"]) for s in signatories] == [(False, "none"), (False, "none")]


async def test_home_province_enterprise_signs_with_e_seal(client):
    (entry,), _, _ = await _signatories(client, [enterprise("崇左甲公司", origin="home_province")])
    assert (entry["required"], entry["method"], entry["kind"]) == (True, "e_seal", "enterprise")
    assert entry["home_mismatch"] is False


async def test_other_province_enterprise_signs_with_e_license(client):
    (entry,), _, _ = await _signatories(client, [enterprise("广州乙公司", origin="other_province")])
    assert (entry["required"], entry["method"]) == (True, "e_license")


async def test_foreign_enterprise_signs_with_e_license(client):
    (entry,), _, _ = await _signatories(client, [enterprise("Acme Ltd", origin="foreign", credit_code="")])
    assert (entry["required"], entry["method"]) == (True, "e_license")


async def test_home_province_enterprise_with_other_division_code_is_flagged(client):
    (entry,), _, _ = await _signatories(client, [
        {**enterprise("自称本省公司", origin="other_province"), "origin": "home_province"}])
    assert entry["method"] == "e_seal" and entry["home_mismatch"] is True


async def test_mixed_shareholders_and_other_roles(client):
    signatories, _, _ = await _signatories(client, [
        person("张三", role="legal_rep", id_number=resident_id(sequence="111")),
        person("张三", role="investor", id_number=resident_id(sequence="111"), share="40"),
        person("Mary Lee", role="investor", id_type="passport", id_number="P9988776", share="20"),
        enterprise("崇左甲公司", origin="home_province", share="20"),
        enterprise("广州乙公司", origin="other_province", share="20"),
        person("李监事", role="supervisor", id_number=resident_id(sequence="222")),
        person("王联络", role="liaison", id_number=resident_id(sequence="333")),
    ])
    assert [(s["name"], s["roles"], s["required"], s["method"]) for s in signatories] == [
        ("张三", ["legal_rep", "investor"], True, "face"),
        ("Mary Lee", ["investor"], False, "none"),
        ("崇左甲公司", ["investor"], True, "e_seal"),
        ("广州乙公司", ["investor"], True, "e_license"),
    ]


async def test_signatories_route_lists_status_for_my_application(client):
    _, application, login = await _signatories(client, [
        person("张三", role="legal_rep"), person("Mary Lee", id_type="passport", id_number="P9988776")])
    response = await client.get(f"/api/v1/applications/{application.id}/signatories", headers=login["headers"])
    assert response.status_code == 200
    assert [(s["name"], s["required"], s["method"], s["status"]) for s in response.json()] == [
        ("张三", True, "face", "not_requested"), ("Mary Lee", False, "none", "not_required")]


async def test_signatories_of_someone_elses_application_is_404(client):
    _, application, _ = await _signatories(client, [person("张三", role="legal_rep")])
    stranger = await login_applicant(client, "openid-stranger")
    response = await client.get(f"/api/v1/applications/{application.id}/signatories", headers=stranger["headers"])
    assert response.status_code == 404
    assert (await client.get("/api/v1/applications/not-a-uuid/signatories",
                             headers=stranger["headers"])).status_code == 404
