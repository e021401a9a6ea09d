"""Tencent Cloud FaceID H5 (慧眼) through its official SDK: face verification from a plain phone browser.

DetectAuth starts a check for a name and ID number and answers the H5 page's URL and a BizToken; Tencent sends
the browser back to our RedirectUrl with token=BizToken; GetDetectInfoEnhanced reads the result. The synchronous
SDK client runs in a worker thread, as the SMS adapter's does.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.faceid.v20180301 import models
from tencentcloud.faceid.v20180301.faceid_client import FaceidClient

from server.config import Settings
from server.sms import split_endpoint


class FaceIdError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass(frozen=True)
class DetectResult:
    err_code: int | None  # 0: passed; None: not finished
    err_msg: str
    name: str
    id_card: str
    extra: str


class TencentFaceId:
    def __init__(self, settings: Settings, endpoint: str):
        cfg = settings.faceid
        scheme, host = split_endpoint(endpoint, "faceid.tencentcloudapi.com")
        profile = ClientProfile(httpProfile=HttpProfile(protocol=scheme, endpoint=host,
                                                        reqTimeout=max(1, round(cfg.timeout_seconds))))
        self._client = FaceidClient(credential.Credential(cfg.secret_id, cfg.secret_key), cfg.region, profile)
        self._rule_id = cfg.rule_id

    async def _call(self, method, request):
        def run():
            try:
                return method(request)
            except TencentCloudSDKException as exc:
                raise FaceIdError(str(exc.code), str(exc.message)) from None
            except Exception as exc:
                raise FaceIdError("network", exc.__class__.__name__) from None

        return await asyncio.to_thread(run)

    async def start(self, *, name: str, id_number: str, redirect_url: str, extra: str) -> tuple[str, str]:
        """(the H5 page's URL, the BizToken) for one check of this person."""
        request = models.DetectAuthRequest()
        request.RuleId = self._rule_id
        request.Name = name
        request.IdCard = id_number
        request.RedirectUrl = redirect_url
        request.Extra = extra
        response = await self._call(self._client.DetectAuth, request)
        return response.Url, response.BizToken

    async def result(self, biz_token: str) -> DetectResult:
        request = models.GetDetectInfoEnhancedRequest()
        request.BizToken = biz_token
        request.RuleId = self._rule_id
        request.InfoType = "0"
        response = await self._call(self._client.GetDetectInfoEnhanced, request)
        text = response.Text
        if text is None:
            return DetectResult(None, "", "", "", "")
        return DetectResult(text.ErrCode, text.ErrMsg or "", text.Name or "", text.IdCard or "", text.Extra or "")
