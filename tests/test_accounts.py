"""Applicant login through wechatpy against the stand-in WeChat server, sessions and phone binding."""
from datetime import timedelta

from tests.helpers import login_applicant, wx_login_code


async def test_login_creates_applicant_and_token_reads_my_applications(client):
    login = await login_applicant(client, "openid-alice")
    assert login["expires_in"] > 0 and login["applicant"]["phone"] is None
    mine = await client.get("/api/v1/applications", headers=login["headers"])
    assert mine.status_code == 200 and mine.json() == []


async def test_same_openid_is_the_same_applicant(client):
    first = await login_applicant(client, "openid-bob")
    second = await login_applicant(client, "openid-bob")
    assert first["applicant"]["id"] == second["applicant"]["id"]
    assert first["token"] != second["token"]


async def test_used_code_is_refused(client):
    code = await wx_login_code(client, "openid-carol")
    assert (await client.post("/api/v1/mp/login", json={"code": code})).status_code == 200
    again = await client.post("/api/v1/mp/login", json={"code": code})
    assert again.status_code == 422
    assert again.json()["error"]["field"] == "code"


async def test_unknown_code_is_refused(client):
    response = await client.post("/api/v1/mp/login", json={"code": "never-issued"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_wechat_code"


async def test_wechat_rate_limit_becomes_429(client, server):
    server.wx.fail_next["jscode2session"] = [45011]
    response = await client.post("/api/v1/mp/login", json={"code": await wx_login_code(client, "o")})
    assert response.status_code == 429
    assert response.json()["error"]["retry_after"] == 60


async def test_wechat_system_error_becomes_503(client, server):
    server.wx.fail_next["jscode2session"] = [-1]
    response = await client.post("/api/v1/mp/login", json={"code": await wx_login_code(client, "o")})
    assert response.status_code == 503


async def test_wechat_timeout_becomes_503(client, server):
    server.wx.delay_seconds = server.settings.wechat.timeout_seconds + 1
    response = await client.post("/api/v1/mp/login", json={"code": await wx_login_code(client, "o")})
    assert response.status_code == 503
    assert "微信" in response.json()["error"]["message"]


async def test_login_attempts_are_rate_limited_per_ip(client, server):
    limit = server.settings.auth.login_attempts_per_minute
    statuses = [(await client.post("/api/v1/mp/login", json={"code": f"bad-{i}"})).status_code for i in range(limit + 1)]
    assert statuses[:limit] == [422] * limit
    assert statuses[-1] == 429


async def test_missing_or_wrong_token_is_401(client):
    assert (await client.get("/api/v1/applications")).status_code == 401
    wrong = await client.get("/api/v1/applications", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"


async def test_logout_revokes_the_token(client):
    login = await login_applicant(client, "openid-dave")
    assert (await client.get("/api/v1/applications", headers=login["headers"])).status_code == 200
    assert (await client.post("/api/v1/mp/logout", headers=login["headers"])).status_code == 200
    assert (await client.get("/api/v1/applications", headers=login["headers"])).status_code == 401


async def test_token_is_stored_only_hashed(client):
    from server.models.accounts import AuthSession

    login = await login_applicant(client, "openid-erin")
    stored = await AuthSession.all().values_list("token_hash", flat=True)
    assert login["token"] not in stored and len(stored) == 1 and len(stored[0]) == 64


async def test_session_ends_when_its_lifetime_is_over(client, clock, settings):
    login = await login_applicant(client, "openid-frank")
    assert login["expires_in"] == settings.auth.session_ttl_hours * 3600
    clock.advance(timedelta(seconds=login["expires_in"] - 60))
    assert (await client.get("/api/v1/applications", headers=login["headers"])).status_code == 200
    clock.advance(timedelta(seconds=61))  # the session was just cached: the cache must not outlive it
    response = await client.get("/api/v1/applications", headers=login["headers"])
    assert response.status_code == 401 and response.json()["error"]["message"] == "登录已失效，请重新登录"


async def test_phone_bound_from_getphonenumber_code(client):
    login = await login_applicant(client, "openid-gina")
    code = (await client.post("/_mock/wx/phone-code", json={"phone": "13912345678"})).json()["code"]
    bound = await client.post("/api/v1/mp/phone", json={"code": code}, headers=login["headers"])
    assert bound.status_code == 200 and bound.json()["phone"] == "13912345678"
    reused = await client.post("/api/v1/mp/phone", json={"code": code}, headers=login["headers"])
    assert reused.status_code == 422
