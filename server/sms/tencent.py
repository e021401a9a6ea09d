"""Tencent Cloud SMS (2021-01-11) through its official SDK; the synchronous client runs in a worker thread."""
from __future__ import annotations

import asyncio
import time

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models as tencent
from tencentcloud.sms.v20210111.sms_client import SmsClient

from server.config import Settings
from server.sms import Accepted, DeliveryError, SmsMessage, SmsProvider, TemporaryFailure, classify, split_endpoint, \
    template_code

PERMANENT = {
    "InvalidParameterValue.IncorrectPhoneNumber", "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.SignatureIncorrectOrUnapproved", "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberParseFail", "FailedOperation.ContainSensitiveWord",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate", "FailedOperation.MissingTemplateToModify",
    "InvalidParameterValue.TemplateParameterFormatError", "InvalidParameterValue.TemplateParameterLengthLimit",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter", "InvalidParameterValue.ContentLengthLimit",
    "InvalidParameterValue.InvalidTemplateFormat", "MissingParameter.EmptyPhoneNumberSet",
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber", "UnsupportedOperation.UnsupportedRegion",
}
# Tencent's per-phone frequency limits, held until their window frees.
THROTTLED = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": 30.0,
    "LimitExceeded.DeliveryFrequencyLimit": 60.0,
    "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
    "LimitExceeded.PhoneNumberDailyLimit": 86400.0,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": 86400.0,
}
# Delivery receipts are listed 100 at a time.
PAGE = 100


def _error(code: str, message: str) -> DeliveryError:
    return classify(code, message, PERMANENT, THROTTLED)


class TencentSmsProvider(SmsProvider):
    name = "tencent"

    def __init__(self, settings: Settings):
        sms = settings.sms
        scheme, host = split_endpoint(sms.endpoint, "sms.tencentcloudapi.com")
        self._settings = settings
        profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=host,
                                                        reqTimeout=max(1, round(sms.timeout_seconds))))
        self._client = SmsClient(credential.Credential(sms.access_key_id, sms.access_key_secret), sms.region, profile)

    async def _call(self, method, request):
        def run():
            try:
                return method(request)
            except TencentCloudSDKException as exc:
                raise _error(str(exc.code), str(exc.message)) from None
            except Exception as exc:
                raise TemporaryFailure("network", f"腾讯云短信接口无法访问：{exc.__class__.__name__}") from None

        return await asyncio.to_thread(run)

    @staticmethod
    def _e164(phone: str) -> str:
        return phone if phone.startswith("+") else "+86" + phone

    async def send(self, message: SmsMessage) -> Accepted:
        request = tencent.SendSmsRequest()
        request.PhoneNumberSet = [self._e164(message.phone)]
        request.SmsSdkAppId = self._settings.sms.sdk_app_id
        request.SignName = self._settings.sms.sign_name
        request.TemplateId = template_code(self._settings, message.template)
        # Tencent templates are positional ({1}, {2} …): our named parameters in the order the text uses them.
        request.TemplateParamSet = [message.params[name] for name in message.param_order]
        request.SessionContext = message.id
        response = await self._call(self._client.SendSms, request)
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise TemporaryFailure("empty_answer", "腾讯云短信未返回发送状态")
        if status.Code != "Ok":
            raise _error(status.Code or "unknown", status.Message or "")
        return Accepted(status.SerialNo)

    async def find(self, message: SmsMessage) -> Accepted | None:
        """PullSmsSendStatusByPhoneNumber since the message was written, matching our SessionContext.

        Tencent lists a message once the carrier's delivery receipt is in; a message accepted but not yet
        reported is not found, which is why the sender only asks after a lease of a minute or more has passed.
        """
        begin = int((message.created_at.timestamp() if message.created_at else time.time()) - 60)
        offset = 0
        while True:
            request = tencent.PullSmsSendStatusByPhoneNumberRequest()
            request.PhoneNumber = self._e164(message.phone)
            request.SmsSdkAppId = self._settings.sms.sdk_app_id
            request.BeginTime = begin
            request.EndTime = int(time.time()) + 60
            request.Offset = offset
            request.Limit = PAGE
            response = await self._call(self._client.PullSmsSendStatusByPhoneNumber, request)
            statuses = response.PullSmsSendStatusSet or []
            for status in statuses:
                if status.SessionContext == message.id:
                    return Accepted(status.SerialNo)
            if len(statuses) < PAGE:
                return None
            offset += PAGE
