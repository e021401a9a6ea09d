"""SMS verification codes and the per-phone limits: one code at a time, stored hashed, 5 wrong tries and it is
dead, expiry; 1/minute, 5/hour, 10/day per phone under concurrent requests, on Redis and in-process."""
import asyncio
import re

import pytest

from server.errors import Invalid
from server.models.notifications import OutboxMessage
from server.cache import MemoryCache
from server.services.notifications.messages import (phone_cache_key, send_sms_code, take_phone_quota,
                                                      verify_sms_code)
from tests.helpers import delivered_sms, login_applicant

PHONE = "13712345678"


def with_sms(settings, **changes):
    return settings.model_copy(update={"sms": settings.sms.model_copy(update=changes)})


async def request_code(client, server, headers, phone=PHONE) -> str:
    response = await client.post("/api/v1/mp/sms-code", json={"phone": phone}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"expires_in": server.settings.sms.code_ttl_seconds}
    newest = (await delivered_sms(client, server, phone))[0]
    assert newest["template"] == "sms_code"
    return re.search(r"验证码为(\d{6})", newest["text"])[1]


async def test_code_arrives_by_sms_and_binds_the_phone_once(client, server):
    me = await login_applicant(client, "openid-code-1")
    code = await request_code(client, server, me["headers"])

    bound = await client.post("/api/v1/mp/phone", json={"phone": PHONE, "sms_code": code}, headers=me["headers"])
    assert bound.status_code == 200 and bound.json()["phone"] == PHONE
    assert (await client.get("/api/v1/mp/me", headers=me["headers"])).json()["phone"] == PHONE
    again = await client.post("/api/v1/mp/phone", json={"phone": PHONE, "sms_code": code}, headers=me["headers"])
    assert again.status_code == 422 and again.json()["error"]["code"] == "sms_code_expired"


async def test_code_is_kept_only_hashed_and_scrubbed_from_the_outbox_once_sent(client, server):
    me = await login_applicant(client, "openid-code-2")
    code = await request_code(client, server, me["headers"])
    stored = await server.app.ctx.cache.get(f"sms-code:{phone_cache_key(PHONE)}")
    assert stored and code not in stored and len(stored) == 64
    [message] = await OutboxMessage.filter(template="sms_code")
    assert message.status == "sent" and message.params["code"] == "******"


async def test_the_cache_holds_no_phone_number(client, server):
    me = await login_applicant(client, "openid-code-keys")
    await request_code(client, server, me["headers"])
    cache = server.app.ctx.cache
    if isinstance(cache, MemoryCache):
        keys = list(cache._data)
    else:
        import redis.asyncio as redis_asyncio
        raw = redis_asyncio.from_url(server.settings.cache.url, decode_responses=True)
        keys = [key async for key in raw.scan_iter("*")]
        await raw.aclose()
    assert any(key.endswith("sms-code:" + phone_cache_key(PHONE)) for key in keys), keys
    assert not any(PHONE in key for key in keys), keys


async def test_code_for_another_phone_does_not_bind(client, server):
    me = await login_applicant(client, "openid-code-3")
    code = await request_code(client, server, me["headers"])
    other = await client.post("/api/v1/mp/phone", json={"phone": "13700000000", "sms_code": code},
                              headers=me["headers"])
    assert other.status_code == 422 and other.json()["error"]["field"] == "sms_code"
    assert (await client.get("/api/v1/mp/me", headers=me["headers"])).json()["phone"] is None


async def test_five_wrong_tries_kill_the_code_even_for_the_right_one(client, server):
    me = await login_applicant(client, "openid-code-4")
    code = await request_code(client, server, me["headers"])
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    answers = [await client.post("/api/v1/mp/phone", json={"phone": PHONE, "sms_code": wrong}, headers=me["headers"])
               for _ in range(5)]
    assert [a.json()["error"]["code"] for a in answers] == ["sms_code_wrong"] * 4 + ["sms_code_locked"]
    assert "还可尝试4次" in answers[0].json()["error"]["message"]
    right = await client.post("/api/v1/mp/phone", json={"phone": PHONE, "sms_code": code}, headers=me["headers"])
    assert right.status_code == 422 and right.json()["error"]["code"] == "sms_code_expired"


async def test_concurrent_guesses_get_no_more_than_five_tries(cache, server):
    settings = server.settings
    await cache.set(f"sms-code:{phone_cache_key(PHONE)}", "0" * 64, ttl=60)  # a code no guess matches

    async def guess(n):
        try:
            await verify_sms_code(cache, settings, PHONE, f"{n:06d}")
        except Invalid as exc:
            return exc.code

    codes = await asyncio.gather(*(guess(n) for n in range(20)))
    assert codes.count("sms_code_wrong") == 4 and codes.count("sms_code_locked") >= 1
    assert set(codes) <= {"sms_code_wrong", "sms_code_locked", "sms_code_expired"}
    assert await cache.get(f"sms-code:{phone_cache_key(PHONE)}") is None


async def test_code_expires(cache, server):
    short = with_sms(server.settings, code_ttl_seconds=1)
    await send_sms_code(cache, short, PHONE)
    [message] = await OutboxMessage.filter(template="sms_code")
    await asyncio.sleep(1.1)
    with pytest.raises(Invalid) as expired:
        await verify_sms_code(cache, short, PHONE, message.params["code"])
    assert expired.value.code == "sms_code_expired"


async def test_new_code_replaces_the_old_one(cache, server):
    roomy = with_sms(server.settings, per_minute=5)
    await send_sms_code(cache, roomy, PHONE)
    await send_sms_code(cache, roomy, PHONE)
    first, second = [m.params["code"] for m in await OutboxMessage.filter(template="sms_code").order_by("created_at")]
    with pytest.raises(Invalid):
        await verify_sms_code(cache, roomy, PHONE, first)
    assert await verify_sms_code(cache, roomy, PHONE, second) is True


async def test_code_requests_beyond_the_limit_get_429_with_retry_after(client, server):
    me = await login_applicant(client, "openid-code-5")
    answers = await asyncio.gather(*(client.post("/api/v1/mp/sms-code", json={"phone": PHONE},
                                                 headers=me["headers"]) for _ in range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [429] * 19
    refused = next(a for a in answers if a.status_code == 429)
    assert 1 <= refused.json()["error"]["retry_after"] <= 60
    assert refused.headers["retry-after"] == str(refused.json()["error"]["retry_after"])
    assert refused.json()["error"]["field"] == "phone"
    assert len(await delivered_sms(client, server, PHONE)) == 1


@pytest.mark.parametrize("limits, allowed, wait", [
    ({"per_minute": 1, "per_hour": 100, "per_day": 100}, 1, 60),
    ({"per_minute": 100, "per_hour": 5, "per_day": 100}, 5, 3600),
    ({"per_minute": 100, "per_hour": 100, "per_day": 10}, 10, 86400),
])
async def test_each_window_holds_under_20_concurrent_requests(cache, server, limits, allowed, wait):
    settings = with_sms(server.settings, **limits)
    waits = await asyncio.gather(*(take_phone_quota(cache, settings, PHONE) for _ in range(20)))
    assert waits.count(0) == allowed
    assert all(wait - 5 <= w <= wait for w in waits if w)
    # Another phone has its own windows.
    assert await take_phone_quota(cache, settings, "13700000001") == 0


async def test_default_limits_are_one_a_minute_five_an_hour_ten_a_day(server):
    sms = server.settings.sms
    assert (sms.per_minute, sms.per_hour, sms.per_day) == (1, 5, 10)
    assert (sms.code_ttl_seconds, sms.code_max_attempts) == (300, 5)


async def test_refused_request_does_not_use_up_the_other_windows(cache, server):
    settings = with_sms(server.settings, per_minute=1, per_hour=2, per_day=10)
    assert await take_phone_quota(cache, settings, PHONE) == 0
    for _ in range(5):
        assert await take_phone_quota(cache, settings, PHONE) > 0
    # Only the accepted message counted toward the hour: one more fits once the minute frees.
    await cache.delete(f"sms-quota:{{{phone_cache_key(PHONE)}}}:60")
    assert await take_phone_quota(cache, settings, PHONE) == 0


@pytest.mark.parametrize("body, field", [
    ({"phone": "12345"}, "phone"),
    ({"phone": "1381234567a"}, "phone"),
    ({}, "phone"),
    ({"phone": PHONE, "extra": 1}, "extra"),
])
async def test_bad_code_request_names_the_field(client, body, field):
    me = await login_applicant(client, "openid-code-6")
    response = await client.post("/api/v1/mp/sms-code", json=body, headers=me["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == field
    assert await OutboxMessage.all().count() == 0


async def test_code_request_needs_login(client):
    assert (await client.post("/api/v1/mp/sms-code", json={"phone": PHONE})).status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"phone": PHONE}, "sms_code"),
    ({"sms_code": "123456"}, "phone"),
    ({"phone": PHONE, "sms_code": "12ab56"}, "sms_code"),
    ({"phone": "123", "sms_code": "123456"}, "phone"),
    ({}, "code"),
])
async def test_bad_binding_names_the_field_and_binds_nothing(client, body, field):
    me = await login_applicant(client, "openid-code-7")
    response = await client.post("/api/v1/mp/phone", json=body, headers=me["headers"])
    assert response.status_code == 422 and response.json()["error"]["field"] == field
    assert (await client.get("/api/v1/mp/me", headers=me["headers"])).json()["phone"] is None
