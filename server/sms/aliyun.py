"""Aliyun SMS (dysmsapi 2017-05-25) through its official SDK; the synchronous client runs in a worker thread."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

from alibabacloud_dysmsapi20170525 import models as aliyun
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models as open_api
from darabonba.exceptions import DaraException
from darabonba.runtime import RuntimeOptions

from server.config import Settings
from server.sms import Accepted, DeliveryError, SmsMessage, SmsProvider, TemporaryFailure, classify, split_endpoint, \
    template_code

CHINA = timezone(timedelta(hours=8))  # SendDate in QuerySendDetails is a Beijing-time date
# Aliyun keeps send details for 30 days; older messages cannot be looked up.
DETAILS_KEPT_DAYS = 30

PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.SMS_SIGN_ILLEGAL", "isv.TEMPLATE_MISSING_PARAMETERS", "isv.INVALID_PARAMETERS", "isv.INVALID_JSON_PARAM",
    "isv.PARAM_LENGTH_LIMIT", "isv.PARAM_NOT_SUPPORT_URL", "isv.BLACK_KEY_CONTROL_LIMIT", "isv.SMS_CONTENT_ILLEGAL",
    "isv.DOMESTIC_NUMBER_NOT_SUPPORTED", "isv.SMS_SIGNATURE_SCENE_ILLEGAL", "isv.EXTEND_CODE_ERROR",
}
# Aliyun's per-phone flow control (触发分钟级/小时级/天级流控); the message names the window.
THROTTLED = {"isv.BUSINESS_LIMIT_CONTROL": 60.0, "isv.DAY_LIMIT_CONTROL": 86400.0, "isv.MONTH_LIMIT_CONTROL": 86400.0}


def _error(code: str, message: str) -> DeliveryError:
    error = classify(code, message, PERMANENT, THROTTLED)
    if code == "isv.BUSINESS_LIMIT_CONTROL":
        error.retry_after = 86400.0 if "天" in message else 3600.0 if "小时" in message else 60.0
    return error


class AliyunSmsProvider(SmsProvider):
    name = "aliyun"

    def __init__(self, settings: Settings):
        sms = settings.sms
        scheme, host = split_endpoint(sms.endpoint, "dysmsapi.aliyuncs.com")
        self._settings = settings
        self._client = Client(open_api.Config(access_key_id=sms.access_key_id, access_key_secret=sms.access_key_secret,
                                              endpoint=host, protocol=scheme))
        timeout_ms = int(sms.timeout_seconds * 1000)
        # No SDK retries: the outbox decides when to try again, after asking whether the first try arrived.
        self._runtime = RuntimeOptions(autoretry=False, read_timeout=timeout_ms, connect_timeout=timeout_ms)

    async def _call(self, method, request):
        def run():
            try:
                return method(request, self._runtime).body
            except DaraException as exc:
                raise _error(str(exc.code), str(exc.message)) from None
            except Exception as exc:  # the SDK raises plain requests/urllib3 errors when the network fails
                raise TemporaryFailure("network", f"阿里云短信接口无法访问：{exc.__class__.__name__}") from None

        return await asyncio.to_thread(run)

    async def send(self, message: SmsMessage) -> Accepted:
        request = aliyun.SendSmsRequest(
            phone_numbers=message.phone, sign_name=self._settings.sms.sign_name,
            template_code=template_code(self._settings, message.template),
            template_param=json.dumps(message.params, ensure_ascii=False), out_id=message.id,
        )
        body = await self._call(self._client.send_sms_with_options, request)
        if body.code != "OK":
            raise _error(body.code or "unknown", body.message or "")
        return Accepted(body.biz_id)

    async def find(self, message: SmsMessage) -> Accepted | None:
        """QuerySendDetails for the phone on each day since the message was written, matching our OutId."""
        today = datetime.now(CHINA).date()
        first = (message.created_at or datetime.now(CHINA)).astimezone(CHINA).date()
        day = today
        while day >= max(first, today - timedelta(days=DETAILS_KEPT_DAYS - 1)):
            page, seen = 1, 0
            while True:
                request = aliyun.QuerySendDetailsRequest(phone_number=message.phone, send_date=day.strftime("%Y%m%d"),
                                                         page_size=50, current_page=page)
                body = await self._call(self._client.query_send_details_with_options, request)
                if body.code != "OK":
                    raise _error(body.code or "unknown", body.message or "")
                details = body.sms_send_detail_dtos.sms_send_detail_dto if body.sms_send_detail_dtos else []
                for detail in details or []:
                    if detail.out_id == message.id:
                        return Accepted(None)
                seen += len(details or [])
                if not details or seen >= int(body.total_count or 0):
                    break
                page += 1
            day -= timedelta(days=1)
        return None
