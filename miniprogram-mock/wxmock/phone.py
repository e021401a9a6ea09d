"""A scripted phone: does what the mini-program does (wx.login, getPhoneNumber, API calls) over real HTTP.

CLI: python -m wxmock.phone --server http://127.0.0.1:8000 login --openid demo-openid
"""
from __future__ import annotations

import argparse
import json
import sys

import httpx


class PhoneClient:
    def __init__(self, server: str, openid: str, mock_prefix: str = "/_mock/wx", timeout: float = 30.0):
        self.http = httpx.Client(base_url=server.rstrip("/"), timeout=timeout)
        self.openid = openid
        self.mock_prefix = mock_prefix
        self.token: str | None = None

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "PhoneClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _mock(self, path: str, body: dict) -> dict:
        response = self.http.post(self.mock_prefix + path, json=body)
        response.raise_for_status()
        return response.json()

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, **kwargs):
        response = self.call(method, path, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} → {response.status_code} {response.text}")
        return response.json()

    def login(self) -> dict:
        """wx.login() then POST /api/v1/mp/login, as the mini-program's app.js does on launch."""
        code = self._mock("/code", {"openid": self.openid})["code"]
        result = self.ok("POST", "/api/v1/mp/login", json={"code": code})
        self.token = result["token"]
        return result

    def bind_phone(self, phone: str) -> dict:
        """The getPhoneNumber button, then POST /api/v1/mp/phone with its code."""
        code = self._mock("/phone-code", {"phone": phone})["code"]
        return self.ok("POST", "/api/v1/mp/phone", json={"code": code})

    def my_applications(self) -> list:
        return self.ok("GET", "/api/v1/applications")

    # --- remote signing ------------------------------------------------------------------------------------
    def request_signatures(self, application_id: str, party_id: str | None = None) -> list:
        """The applicant's 发送签名链接 button: POST …/signing-requests → [{id, party_id, name, link, …}]."""
        body = {"party_id": party_id} if party_id else None
        return self.ok("POST", f"/api/v1/applications/{application_id}/signing-requests", json=body)

    def signatories(self, application_id: str) -> list:
        return self.ok("GET", f"/api/v1/applications/{application_id}/signatories")

    def sms_inbox(self, phone: str | None = None) -> list:
        """What the development SMS sink received (GET /dev/sms), newest first, optionally for one phone."""
        messages = self.ok("GET", "/dev/sms")
        return [m for m in messages if phone is None or m.get("phone") == phone]

    def signing_links(self, phone: str) -> list[str]:
        """The signing links texted to a phone, newest first."""
        return [m["params"]["link"] for m in self.sms_inbox(phone) if m.get("template") == "signing_link"]

    @staticmethod
    def _token(link: str) -> str:
        return link.rsplit("/s/", 1)[-1]

    def open_link(self, link: str) -> dict:
        """What the signing page shows: GET /api/v1/sign/{token}."""
        return self.ok("GET", f"/api/v1/sign/{self._token(link)}")

    def pass_face(self, link: str, name: str, id_number: str, outcome: str = "ok") -> httpx.Response:
        """wx.startFacialRecognitionVerify, then POST /api/v1/sign/{token}/face with its verifyResult."""
        verify_result = self._mock("/face", {"name": name, "id_number": id_number, "outcome": outcome})["verify_result"]
        return self.http.post(f"/api/v1/sign/{self._token(link)}/face", json={"verify_result": verify_result})

    def sign_link(self, link: str) -> dict:
        """Open a link and sign it as its signatory: face and a drawn signature, or the enterprise's e-seal."""
        view = self.open_link(link)
        signer = view["signer"]
        body: dict = {}
        if signer["method"] == "face":
            passed = self.pass_face(link, signer["name"], signer["id_number"])
            if passed.status_code >= 400:
                raise RuntimeError(f"face verification refused: {passed.text}")
            body["signature_png_base64"] = _drawn_signature()
        response = self.http.post(f"/api/v1/sign/{self._token(link)}", json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"signing refused: {response.status_code} {response.text}")
        return response.json()

    def decline_link(self, link: str, reason: str) -> dict:
        response = self.http.post(f"/api/v1/sign/{self._token(link)}/decline", json={"reason": reason})
        if response.status_code >= 400:
            raise RuntimeError(f"decline refused: {response.status_code} {response.text}")
        return response.json()


def _drawn_signature() -> str:
    """A stroke on a transparent canvas, as the signing page's canvas.toDataURL() sends it."""
    import base64
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (320, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 90), (90, 30), (170, 100), (290, 35)], fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wxmock.phone", description="scripted mini-program client")
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--openid", default="demo-openid")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("login", help="log in and print the session")
    phone = commands.add_parser("bind-phone", help="log in and bind a phone number")
    phone.add_argument("phone")
    commands.add_parser("applications", help="log in and list my applications")
    sign = commands.add_parser("sign", help="open a signing link and sign it as its signatory (no login)")
    sign.add_argument("link")
    args = parser.parse_args(argv)
    with PhoneClient(args.server, args.openid) as client:
        if args.command == "sign":
            json.dump(client.sign_link(args.link), sys.stdout, ensure_ascii=False, indent=2)
            print()
            return 0
        result = client.login()
        if args.command == "bind-phone":
            result = client.bind_phone(args.phone)
        elif args.command == "applications":
            result = client.my_applications()
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
