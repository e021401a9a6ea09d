"""WeChat behind a small async interface. wechatpy is synchronous, so every call runs in a worker thread."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException


class WeChatError(Exception):
    """WeChat answered with an error code, or could not be reached (errcode None)."""

    def __init__(self, errcode: int | None, errmsg: str):
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


# The WeChat error codes the services react to.
INVALID_CODE = 40029
CODE_USED = 40163
RATE_LIMITED = 45011
SYSTEM_BUSY = -1
SUBSCRIPTION_REFUSED = 43101


class _ConfiguredClient(WeChatClient):
    """wechatpy's client with every base URL (access token included) taken from config."""

    def __init__(self, appid: str, secret: str, api_base_url: str, timeout: float):
        super().__init__(appid, secret, timeout=timeout, auto_retry=True)
        self._root = api_base_url.rstrip("/") + "/"
        self.API_BASE_URL = self._root + "cgi-bin/"
        self.wxa.API_BASE_URL = self._root

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=self._root + "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


@dataclass
class SessionInfo:
    openid: str
    unionid: str | None


class WeChatGateway:
    def __init__(self, appid: str, secret: str, api_base_url: str, timeout: float = 5.0):
        self._client = _ConfiguredClient(appid, secret, api_base_url, timeout)
        self._root = api_base_url.rstrip("/") + "/"
        self.appid = appid

    async def _call(self, fn, *args, **kwargs):
        def run():
            try:
                return fn(*args, **kwargs)
            except WeChatClientException as exc:
                if exc.errcode is None:
                    raise WeChatError(None, "微信接口无法访问") from None
                raise WeChatError(int(exc.errcode), str(exc.errmsg)) from None
            except requests.RequestException as exc:
                raise WeChatError(None, f"微信接口无法访问：{exc.__class__.__name__}") from None

        return await asyncio.to_thread(run)

    async def code_to_session(self, code: str) -> SessionInfo:
        """jscode2session; the session_key is deliberately not kept: we never decrypt user data with it."""
        result = await self._call(self._client.wxa.code_to_session, code)
        return SessionInfo(openid=result["openid"], unionid=result.get("unionid"))

    async def phone_number(self, code: str) -> str:
        result = await self._call(
            self._client.post, "wxa/business/getuserphonenumber", data={"code": code}, api_base_url=self._root
        )
        return result["phone_info"]["purePhoneNumber"]

    async def send_subscribe_message(self, openid: str, template_id: str, data: dict, page: str | None = None) -> dict:
        return await self._call(self._client.wxa.send_subscribe_message, openid, template_id, data, page)

    async def face_identify(self, verify_result: str) -> dict:
        return await self._call(
            self._client.post,
            "cityservice/face/identify/getinfo",
            data={"verify_result": verify_result},
            api_base_url=self._root,
        )

    async def url_link(self, path: str, query: str = "", expire_days: int = 30) -> str:
        result = await self._call(
            self._client.post,
            "wxa/generate_urllink",
            data={"path": path, "query": query, "expire_type": 1, "expire_interval": expire_days},
            api_base_url=self._root,
        )
        return result["url_link"]
