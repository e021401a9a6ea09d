"""Face verification from a plain phone browser: Tencent Cloud FaceID H5 through the official SDK
(tencentcloud-sdk-python-faceid) against the stand-in over real HTTP, every request TC3-signed and checked."""
import json
from datetime import timedelta

import httpx

from server.models.signing import FaceVerification, Signature
from tests.helpers import read_application_form, signature_png_base64, token_of
from tests.test_signing import LI_ID, ZHANG_ID, _locked


async def _start(client, link):
    response = await client.post(f"/api/v1/sign/{token_of(link)}/face/h5", json={})
    assert response.status_code == 200, response.text
    return response.json()["url"]


async def _finish(url, **query):
    """The signer on Tencent's H5 page: the check, then the redirect back to our signing page with the BizToken."""
    async with httpx.AsyncClient() as browser:
        answer = await browser.post(httpx.URL(url).copy_with(path="/h5/complete").copy_merge_params(query))
    assert answer.status_code == 302
    return httpx.URL(answer.headers["location"])


async def _result(client, link, biz_token):
    return await client.post(f"/api/v1/sign/{token_of(link)}/face/h5/result", json={"biz_token": biz_token})


async def test_a_signer_passes_face_in_the_browser_and_signs(client, server):
    _, _, links = await _locked(client)
    link = links["张三"]["link"]
    back = await _finish(await _start(client, link))
    assert str(back).startswith(link + "?token=")
    passed = await _result(client, link, back.params["token"])
    assert passed.status_code == 200, passed.text
    assert (await client.get(f"/api/v1/sign/{token_of(link)}")).json()["status"] == "face_verified"
    await read_application_form(client, token_of(link))
    signed = await client.post(f"/api/v1/sign/{token_of(link)}", json={"signature_png_base64": signature_png_base64()})
    assert signed.status_code == 200, signed.text
    assert json.loads(signed.json()["evidence"]["payload"])["face_verification"]["provider"] == "tencent_h5"
    assert (await FaceVerification.get()).provider == "tencent_h5"
    state = server.app.ctx.faceid_state
    assert state.calls == [("DetectAuth", True), ("GetDetectInfoEnhanced", True)]
    check = next(iter(state.checks.values()))
    assert (check.name, check.id_card, check.rule_id) == ("张三", ZHANG_ID, server.settings.faceid.rule_id)


async def test_someone_elses_face_a_failed_check_or_an_unfinished_one_does_not_pass(client):
    _, _, links = await _locked(client)
    link = links["张三"]["link"]
    other = await _finish(await _start(client, link), as_name="李四", as_id=LI_ID)
    mismatch = await _result(client, link, other.params["token"])
    assert mismatch.status_code == 422 and mismatch.json()["error"]["code"] == "face_mismatch"
    failed = await _finish(await _start(client, link), outcome="fail")
    answer = await _result(client, link, failed.params["token"])
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "face_failed"
    unfinished = httpx.URL(await _start(client, link)).params["token"]
    answer = await _result(client, link, unfinished)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "face_unfinished"
    assert (await client.get(f"/api/v1/sign/{token_of(link)}")).json()["status"] == "pending"
    assert await Signature.all().count() == 0


async def test_a_result_is_used_once_only_on_its_own_link_and_only_while_fresh(client, clock):
    _, _, links = await _locked(client)
    zhang, li = links["张三"]["link"], links["李四"]["link"]
    back = await _finish(await _start(client, zhang))
    elsewhere = await _result(client, li, back.params["token"])
    assert elsewhere.status_code == 422 and elsewhere.json()["error"]["code"] == "face_invalid"
    assert (await _result(client, zhang, back.params["token"])).status_code == 200
    replay = await _result(client, zhang, back.params["token"])
    assert replay.status_code == 422 and replay.json()["error"]["code"] == "face_replayed"

    late = await _finish(await _start(client, li))
    clock.advance(timedelta(minutes=11))
    stale = await _result(client, li, late.params["token"])
    assert stale.status_code == 422 and stale.json()["error"]["code"] == "face_stale"
    unknown = await _result(client, li, "NOT-A-TOKEN-WE-STARTED")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "face_stale"


async def test_a_wrongly_signed_request_is_refused_by_tencent_and_answers_503(client, server):
    _, _, links = await _locked(client)
    state = server.app.ctx.faceid_state
    state.secret_key = "not-our-key"
    try:
        response = await client.post(f"/api/v1/sign/{token_of(links['张三']['link'])}/face/h5", json={})
    finally:
        state.secret_key = server.settings.faceid.secret_key
    assert response.status_code == 503 and "腾讯云" in response.json()["error"]["message"]
    assert state.calls == [("DetectAuth", False)]


async def test_enterprises_need_no_face(client):
    _, _, links = await _locked(client)
    response = await client.post(f"/api/v1/sign/{token_of(links['崇左甲贸易有限公司']['link'])}/face/h5", json={})
    assert response.status_code == 409


async def test_the_scripted_phone_signs_from_the_browser_and_an_enterprise_by_e_license(client, server):
    import asyncio

    from wxmock.phone import PhoneClient

    _, _, links = await _locked(client)
    with PhoneClient(server.base_url, "openid-browser") as phone:
        signed = await asyncio.to_thread(phone.sign_link, links["李四"]["link"], True)
        sealed = await asyncio.to_thread(phone.sign_link, links["崇左甲贸易有限公司"]["link"], False, "e_license")
    assert json.loads(signed["evidence"]["payload"])["face_verification"]["provider"] == "tencent_h5"
    assert json.loads(sealed["evidence"]["payload"])["method"] == "e_license"
