"""Aliyun and Tencent Cloud SMS through their official SDKs, against a local stand-in of each endpoint:
the request each SDK really sends, and what the outbox does with each provider's error answers."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from server.config import ConfigError
from server.models.notifications import OutboxMessage
from server.clock import now
from server.services.notifications.messages import enqueue_sms, template_params
from server.services.notifications.outbox import OutboxSender
from server.sms import make_sms_provider
from tests.sms_standin import aliyun_signature_ok, start_standin, tencent_signature_ok

SECRET = "stand-in-secret-key"
PHONE = "13800138000"
SIGNED = {"name": "云帆（崇左）科技有限公司", "business": "设立登记", "signer": "张三", "at": "2026-11-23 10:00"}


@pytest.fixture(scope="module")
def standin():
    state, httpd = start_standin(SECRET)
    yield state
    httpd.shutdown()


def provider_settings(settings, standin, provider: str):
    sms = settings.sms.model_copy(update={
        "provider": provider, "access_key_id": "stand-in-key-id", "access_key_secret": SECRET,
        "endpoint": standin.url, "sdk_app_id": "1400787878", "sign_name": "一窗通",
        "templates": {"signed_notice": "SMS_2001" if provider == "aliyun" else "2001", "sms_code": "SMS_1001"},
    })
    return settings.model_copy(update={"sms": sms})


@pytest.fixture
def sender(server, standin, paused_outbox, request):
    standin.requests.clear()
    standin.answers.clear()
    settings = provider_settings(server.settings, standin, request.param)
    return OutboxSender(settings, server.app.ctx.cache, make_sms_provider(settings), None)


def seconds_until(moment: datetime) -> float:
    return (moment - now()).total_seconds()


async def left_by_dead_sender(phone=PHONE) -> OutboxMessage:
    """A message its sender claimed and then died on: 'sending', lease expired, outcome unknown."""
    row = await enqueue_sms(phone, "signed_notice", SIGNED)
    await OutboxMessage.filter(id=row.id).update(status="sending", attempts=1, claim_token="dead-sender",
                                                 lease_until=now() - timedelta(seconds=1))
    return row


# --- Aliyun -----------------------------------------------------------------------------------------------------

ALIYUN_OK = (200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F655A8D5-B967"})


@pytest.mark.parametrize("sender", ["aliyun"], indirect=True)
async def test_aliyun_request_carries_template_code_params_phone_out_id_and_a_valid_signature(sender, standin):
    standin.answer("SendSms", ALIYUN_OK)
    row = await enqueue_sms(PHONE, "signed_notice", SIGNED)
    assert await sender.deliver_due() == 1

    [request] = standin.requests
    assert request.headers["x-acs-action"] == "SendSms" and request.headers["x-acs-version"] == "2017-05-25"
    query = request.query
    assert query["PhoneNumbers"] == PHONE and query["SignName"] == "一窗通" and query["TemplateCode"] == "SMS_2001"
    assert json.loads(query["TemplateParam"]) == SIGNED
    assert query["OutId"] == str(row.id)
    assert request.headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=stand-in-key-id,")
    assert aliyun_signature_ok(request, SECRET)
    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "sent" and stored.provider_message_id == "900619746936498440^0" and stored.attempts == 1


@pytest.mark.parametrize("sender", ["aliyun"], indirect=True)
@pytest.mark.parametrize("answer, status, attempts, wait", [
    ((200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发小时级流控Permits:5"}), "pending", 0, 3600),
    ((200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"}), "pending", 0, 60),
    ((200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}), "failed", 1, None),
    ((200, {"Code": "isv.SMS_TEMPLATE_ILLEGAL", "Message": "该账号下找不到对应模板"}), "failed", 1, None),
    ((503, {"Code": "ServiceUnavailable", "Message": "The request has failed due to a temporary failure"}),
     "pending", 1, 10),
])
async def test_aliyun_error_answers_hold_retry_or_fail(sender, standin, answer, status, attempts, wait):
    standin.answer("SendSms", answer)
    row = await enqueue_sms(PHONE, "signed_notice", SIGNED)
    await sender.deliver_due()

    stored = await OutboxMessage.get(id=row.id)
    assert (stored.status, stored.attempts) == (status, attempts)
    assert answer[1]["Code"] in stored.last_error
    if wait is not None:
        assert wait * 0.75 <= seconds_until(stored.next_attempt_at) <= wait + 1
    assert standin.actions() == ["SendSms"]


@pytest.mark.parametrize("sender", ["aliyun"], indirect=True)
async def test_aliyun_message_of_unknown_outcome_found_by_out_id_is_not_sent_again(sender, standin):
    row = await left_by_dead_sender()
    standin.answer("QuerySendDetails", (200, {
        "Code": "OK", "Message": "OK", "TotalCount": 2, "RequestId": "r1",
        "SmsSendDetailDTOs": {"SmsSendDetailDTO": [
            {"PhoneNum": PHONE, "SendStatus": 3, "OutId": "another-message", "TemplateCode": "SMS_2001"},
            {"PhoneNum": PHONE, "SendStatus": 3, "OutId": str(row.id), "TemplateCode": "SMS_2001"},
        ]},
    }))
    await sender.deliver_due()

    assert standin.actions() == ["QuerySendDetails"]
    query = standin.requests[0].query
    assert query["PhoneNumber"] == PHONE
    assert query["SendDate"] == datetime.now(timezone(timedelta(hours=8))).strftime("%Y%m%d")
    assert aliyun_signature_ok(standin.requests[0], SECRET)
    assert (await OutboxMessage.get(id=row.id)).status == "sent"


@pytest.mark.parametrize("sender", ["aliyun"], indirect=True)
async def test_aliyun_message_of_unknown_outcome_not_found_is_sent_once(sender, standin):
    row = await left_by_dead_sender()
    standin.answer("QuerySendDetails", (200, {"Code": "OK", "Message": "OK", "TotalCount": 0, "RequestId": "r2",
                                              "SmsSendDetailDTOs": {"SmsSendDetailDTO": []}}))
    standin.answer("SendSms", ALIYUN_OK)
    await sender.deliver_due()

    assert standin.actions() == ["QuerySendDetails", "SendSms"]
    assert standin.requests[1].query["OutId"] == str(row.id)
    assert (await OutboxMessage.get(id=row.id)).status == "sent"


# --- Tencent Cloud ------------------------------------------------------------------------------------------------

def tencent_status(code="Ok", message="send success", serial="2640:328593437416860155530900513"):
    return (200, {"Response": {"SendStatusSet": [{
        "SerialNo": serial, "PhoneNumber": "+86" + PHONE, "Fee": 1, "SessionContext": "", "Code": code,
        "Message": message, "IsoCode": "CN"}], "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279"}})


def tencent_error(code, message):
    return (200, {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": "c9d2f3a0"}})


@pytest.mark.parametrize("sender", ["tencent"], indirect=True)
async def test_tencent_request_carries_template_positional_params_phone_session_context_and_valid_signature(
        sender, standin):
    standin.answer("SendSms", tencent_status())
    row = await enqueue_sms(PHONE, "signed_notice", SIGNED)
    await sender.deliver_due()

    [request] = standin.requests
    assert request.headers["x-tc-action"] == "SendSms" and request.headers["x-tc-version"] == "2021-01-11"
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    body = request.json
    assert body["PhoneNumberSet"] == ["+86" + PHONE]
    assert body["SmsSdkAppId"] == "1400787878" and body["SignName"] == "一窗通" and body["TemplateId"] == "2001"
    # The template's {1}, {2} … are our named parameters in the order the text uses them.
    assert template_params("signed_notice") == ["name", "business", "signer", "at"]
    assert body["TemplateParamSet"] == [SIGNED["name"], SIGNED["business"], SIGNED["signer"], SIGNED["at"]]
    assert body["SessionContext"] == str(row.id)
    assert request.headers["authorization"].startswith("TC3-HMAC-SHA256 Credential=stand-in-key-id/")
    assert tencent_signature_ok(request, SECRET)
    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "sent" and stored.provider_message_id == "2640:328593437416860155530900513"


@pytest.mark.parametrize("sender", ["tencent"], indirect=True)
@pytest.mark.parametrize("answer, code, status, attempts, wait", [
    (tencent_status("LimitExceeded.PhoneNumberDailyLimit", "the number of sms messages sent from a single mobile "
                    "number every day exceeds the upper limit"), "PhoneNumberDailyLimit", "pending", 0, 86400),
    (tencent_status("LimitExceeded.PhoneNumberThirtySecondLimit", "30 second limit"), "ThirtySecondLimit",
     "pending", 0, 30),
    (tencent_status("InvalidParameterValue.IncorrectPhoneNumber", "incorrect phone number"), "IncorrectPhoneNumber",
     "failed", 1, None),
    (tencent_error("FailedOperation.TemplateIncorrectOrUnapproved", "template is not approved"),
     "TemplateIncorrectOrUnapproved", "failed", 1, None),
    (tencent_error("InternalError.Timeout", "request timed out"), "InternalError.Timeout", "pending", 1, 10),
])
async def test_tencent_error_answers_hold_retry_or_fail(sender, standin, answer, code, status, attempts, wait):
    standin.answer("SendSms", answer)
    row = await enqueue_sms(PHONE, "signed_notice", SIGNED)
    await sender.deliver_due()

    stored = await OutboxMessage.get(id=row.id)
    assert (stored.status, stored.attempts) == (status, attempts)
    assert code in stored.last_error
    if wait is not None:
        assert wait * 0.75 <= seconds_until(stored.next_attempt_at) <= wait + 1


@pytest.mark.parametrize("sender", ["tencent"], indirect=True)
async def test_tencent_message_of_unknown_outcome_found_by_session_context_is_not_sent_again(sender, standin):
    row = await left_by_dead_sender()
    standin.answer("PullSmsSendStatusByPhoneNumber", (200, {"Response": {"PullSmsSendStatusSet": [{
        "UserReceiveTime": "2026-11-23 10:00:05", "CountryCode": "86", "SubscriberNumber": PHONE,
        "PhoneNumber": "+86" + PHONE, "SerialNo": "2640:1", "ReportStatus": "SUCCESS", "Description": "DELIVRD",
        "SessionContext": str(row.id)}], "RequestId": "r3"}}))
    await sender.deliver_due()

    assert standin.actions() == ["PullSmsSendStatusByPhoneNumber"]
    body = standin.requests[0].json
    assert body["PhoneNumber"] == "+86" + PHONE and body["SmsSdkAppId"] == "1400787878"
    assert body["BeginTime"] <= int(row.created_at.timestamp()) <= body["EndTime"]
    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "sent" and stored.provider_message_id == "2640:1"


@pytest.mark.parametrize("sender", ["tencent"], indirect=True)
async def test_tencent_message_of_unknown_outcome_not_reported_is_sent_once(sender, standin):
    row = await left_by_dead_sender()
    standin.answer("PullSmsSendStatusByPhoneNumber", (200, {"Response": {"PullSmsSendStatusSet": [],
                                                                         "RequestId": "r4"}}))
    standin.answer("SendSms", tencent_status())
    await sender.deliver_due()

    assert standin.actions() == ["PullSmsSendStatusByPhoneNumber", "SendSms"]
    assert standin.requests[1].json["SessionContext"] == str(row.id)
    assert (await OutboxMessage.get(id=row.id)).status == "sent"


# --- Both ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sender", ["aliyun", "tencent"], indirect=True)
async def test_template_without_configured_code_fails_without_calling_the_provider(sender, standin):
    row = await enqueue_sms(PHONE, "cloud_returned", {"name": "云帆科技", "business": "设立登记"})
    await sender.deliver_due()

    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "failed" and "cloud_returned" in stored.last_error
    assert standin.requests == []


@pytest.mark.parametrize("sender", ["aliyun", "tencent"], indirect=True)
async def test_unreachable_provider_is_retried_later(sender, standin, server):
    unreachable = provider_settings(server.settings, standin, sender.settings.sms.provider)
    unreachable.sms.endpoint = "http://127.0.0.1:9"  # discard port: connection refused
    sender = OutboxSender(unreachable, server.app.ctx.cache, make_sms_provider(unreachable), None)
    row = await enqueue_sms(PHONE, "signed_notice", SIGNED)
    await sender.deliver_due()

    stored = await OutboxMessage.get(id=row.id)
    assert stored.status == "pending" and stored.attempts == 1 and "network" in stored.last_error.lower()


@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_real_provider_without_credentials_stops_the_start(settings, provider):
    broken = settings.model_copy(update={"sms": settings.sms.model_copy(update={"provider": provider})})
    with pytest.raises(ConfigError, match="sms.access_key_id"):
        make_sms_provider(broken)
