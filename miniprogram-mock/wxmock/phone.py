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

    def submit(self, application_id: str, flow: str = "cloud", idempotency_key: str | None = None) -> dict:
        """The submit button: 云帮办 (flow "cloud", no signature) or 一般流程 ("general"); a key makes retries safe."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.ok("POST", f"/api/v1/applications/{application_id}/submit", json={"flow": flow}, headers=headers)

    def set_auto_submit(self, application_id: str, auto_submit: bool) -> dict:
        """签名完成后自动提交 (default) or 我来确认提交: PUT …/auto-submit."""
        return self.ok("PUT", f"/api/v1/applications/{application_id}/auto-submit", json={"auto_submit": auto_submit})

    def withdraw(self, application_id: str) -> dict:
        """撤回: a draft, returned or locked case (every open signing link then stops working)."""
        return self.ok("POST", f"/api/v1/applications/{application_id}/withdraw")

    def timeline(self, application_id: str) -> list:
        """办理进度: every step, with the registrar's comments after a return."""
        return self.ok("GET", f"/api/v1/applications/{application_id}/timeline")

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
        return [m["params"]["link"] for m in self.sms_inbox(phone)
                if m.get("template") in ("signing_link", "signing_link_wechat")]

    @staticmethod
    def _token(link: str) -> str:
        return link.rsplit("/s/", 1)[-1]

    def open_link(self, link: str) -> dict:
        """What the signing page shows: GET /api/v1/sign/{token}."""
        return self.ok("GET", f"/api/v1/sign/{self._token(link)}")

    def pass_face(self, link: str, outcome: str = "ok") -> httpx.Response:
        """The face check as the development server runs it: the signing view shows the ID number masked, so the
        server, which knows the signer, asks the stand-in wx.startFacialRecognitionVerify and checks its result."""
        return self.http.post(f"/api/v1/sign/{self._token(link)}/face/stand-in", json={"outcome": outcome})

    def documents(self, link: str) -> dict:
        """The documents and attachments the signer reads: GET /api/v1/sign/{token}/documents."""
        return self.ok("GET", f"/api/v1/sign/{self._token(link)}/documents")

    def read_document(self, link: str, kind: str = "application_form") -> bytes:
        """Open one generated document (the 申请书 by default) as the signing page's link does."""
        response = self.http.get(f"/api/v1/sign/{self._token(link)}/documents/{kind}.pdf")
        if response.status_code >= 400:
            raise RuntimeError(f"document {kind} → {response.status_code} {response.text}")
        return response.content

    def pass_face_in_browser(self, link: str, outcome: str = "ok") -> httpx.Response:
        """A link opened in the phone's browser: Tencent Cloud FaceID H5 — start, do the check on Tencent's page,
        follow it back to the signing page, and post the BizToken it brings."""
        token = self._token(link)
        start = self.http.post(f"/api/v1/sign/{token}/face/h5", json={})
        if start.status_code >= 400:
            return start
        page = httpx.post(start.json()["url"].replace("/h5?", "/h5/complete?") + f"&outcome={outcome}",
                          follow_redirects=False, timeout=self.http.timeout)
        back = httpx.URL(page.headers["location"])
        return self.http.post(f"/api/v1/sign/{token}/face/h5/result", json={"biz_token": back.params["token"]})

    def sign_link(self, link: str, browser: bool = False, method: str | None = None) -> dict:
        """Open a link, read the 申请书, and sign as its signatory: face (in the mini-program, or with `browser` by
        FaceID H5) and a drawn signature, or the enterprise's e-seal / e-license (`method` chooses)."""
        view = self.open_link(link)
        self.read_document(link, self.documents(link)["must_open"])
        signer = view["signer"]
        body: dict = {"method": method} if method else {}
        if signer["method"] == "face":
            passed = (self.pass_face_in_browser(link) if browser
                      else self.pass_face(link))
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

    def check_name(self, name: str, entity_type: str = "llc", authority_code: str = "451402") -> dict:
        """The 自主核名 page: POST /api/v1/names/check."""
        return self.ok("POST", "/api/v1/names/check",
                       json={"name": name, "entity_type": entity_type, "authority_code": authority_code})

    def reserve_name(self, name: str, entity_type: str = "llc", authority_code: str = "451402") -> dict:
        return self.ok("POST", "/api/v1/names/reservations",
                       json={"name": name, "entity_type": entity_type, "authority_code": authority_code})

    def create_application(self, business_type: str, entity_type: str = "llc", authority_code: str = "451402",
                           name: str | None = None, credit_code: str | None = None) -> dict:
        body = {"business_type": business_type, "entity_type": entity_type, "authority_code": authority_code}
        if name is not None:
            body["name"] = name
        if credit_code is not None:
            body["credit_code"] = credit_code
        return self.ok("POST", "/api/v1/applications", json=body)

    def save_form(self, application_id: str, **parts) -> dict:
        """One step of the form (entity=…, parties=…, name=…): PATCH saves whatever is sent."""
        return self.ok("PATCH", f"/api/v1/applications/{application_id}", json=parts)

    def application(self, application_id: str) -> dict:
        return self.ok("GET", f"/api/v1/applications/{application_id}")

    def license(self, application_id: str) -> dict:
        """The approved filing's business license: how it is collected and where it stands."""
        return self.ok("GET", f"/api/v1/applications/{application_id}/license")

    def choose_license(self, application_id: str, method: str, **details) -> dict:
        """electronic, window (pickup_authority_code: any authority of the city) or post (recipient_name,
        recipient_phone, postal_address)."""
        return self.ok("POST", f"/api/v1/applications/{application_id}/license", json={"method": method, **details})

    def flow_options(self, application_id: str) -> dict:
        return self.ok("GET", f"/api/v1/applications/{application_id}/flow-options")

    def upload_photo(self, application_id: str, kind: str, data: bytes | None = None, filename: str = "photo.jpg") -> dict:
        """wx.chooseMedia then wx.uploadFile: a camera photo (a generated JPEG unless bytes are given)."""
        if data is None:
            data = _camera_photo()
        response = self.call("POST", f"/api/v1/applications/{application_id}/attachments", data={"kind": kind},
                             files={"file": (filename, data, "image/jpeg")})
        if response.status_code >= 400:
            raise RuntimeError(f"upload → {response.status_code} {response.text}")
        return response.json()

    def form(self, business_type: str, entity_type: str) -> dict:
        """The form contract the mini-program renders its pages from."""
        return self.ok("GET", f"/api/v1/forms/{business_type}/{entity_type}")

    def draft_from_form(self, business_type: str, entity_type: str, answers: dict[str, str], people: list[dict],
                        authority_code: str = "451402", name: str | None = None) -> dict:
        """Fill a draft as the mini-program would, knowing only the form contract: each field answered by its label
        (what the user reads beside the box) or, when the user leaves an optional one, skipped; each role with a
        minimum gets people, investors share 100%; each attachment the contract asks for gets a photo."""
        contract = self.form(business_type, entity_type)
        entity = {}
        for field in contract["fields"]:
            if field["label"] in answers:
                entity[field["key"]] = answers[field["label"]]
            elif field["required"] and field["type"] == "choice":
                entity[field["key"]] = field["options"][0]
        parties, people_left = [], list(people)
        for rule in contract["party_roles"]:
            for _ in range(rule["min"]):
                person = people_left.pop(0) if people_left else people[0]
                parties.append({**person, "role": rule["role"], "kind": "person"})
        investors = [party for party in parties if party["role"] == "investor"]
        for investor in investors:
            investor["share_percent"] = str(round(100 / len(investors), 4))
        app = self.create_application(business_type, entity_type, authority_code, name)
        app = self.save_form(app["id"], entity=entity, parties=parties)
        for item in contract["attachments"]:
            if item["required"] or item["when"] == "has_person_party":
                self.upload_photo(app["id"], item["kind"])
        return self.application(app["id"])

    def fill_application(self, business_type: str, entity_type: str = "llc", authority_code: str = "451402",
                         name: str | None = None, credit_code: str | None = None, entity: dict | None = None,
                         parties: list | None = None, upload_missing: bool = True) -> dict:
        """Start an application and fill it step by step as a user would: form, people, then every photo asked for."""
        app = self.create_application(business_type, entity_type, authority_code, name, credit_code)
        if entity:
            app = self.save_form(app["id"], entity=entity)
        if parties is not None:
            app = self.save_form(app["id"], parties=parties)
        if upload_missing:
            for kind in dict.fromkeys(item["attachment_kind"] for item in app["missing"] if item.get("attachment_kind")):
                self.upload_photo(app["id"], kind)
            app = self.application(app["id"])
        return app


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


def _camera_photo() -> bytes:
    """A JPEG such as a phone camera takes, with EXIF (maker and GPS position) the server must strip."""
    import io

    from PIL import Image

    image = Image.new("RGB", (800, 600), (235, 235, 225))
    exif = Image.Exif()
    exif[0x010F] = "MockPhone"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (22.0, 22.0, 0.0), "E", (107.0, 21.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


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
    sign.add_argument("--browser", action="store_true", help="face by Tencent FaceID H5, as from the SMS in a browser")
    sign.add_argument("--method", choices=["e_seal", "e_license"], help="an enterprise's choice")
    check = commands.add_parser("check-name", help="自主核名: check a proposed name")
    check.add_argument("name")
    check.add_argument("--entity-type", default="llc")
    check.add_argument("--authority", default="451402")
    submit = commands.add_parser("submit", help="log in and submit an application")
    submit.add_argument("application_id")
    submit.add_argument("--flow", choices=["cloud", "general"], default="cloud")
    submit.add_argument("--idempotency-key")
    timeline = commands.add_parser("timeline", help="log in and show an application's 办理进度")
    timeline.add_argument("application_id")
    auto = commands.add_parser("auto-submit", help="log in and choose: submit by itself once all have signed, or not")
    auto.add_argument("application_id")
    auto.add_argument("choice", choices=["on", "off"])
    withdraw = commands.add_parser("withdraw", help="log in and withdraw an application (also a locked one)")
    withdraw.add_argument("application_id")
    args = parser.parse_args(argv)
    with PhoneClient(args.server, args.openid) as client:
        if args.command == "sign":
            json.dump(client.sign_link(args.link, browser=args.browser, method=args.method), sys.stdout,
                      ensure_ascii=False, indent=2)
            print()
            return 0
        result = client.login()
        if args.command == "bind-phone":
            result = client.bind_phone(args.phone)
        elif args.command == "applications":
            result = client.my_applications()
        elif args.command == "check-name":
            result = client.check_name(args.name, args.entity_type, args.authority)
        elif args.command == "submit":
            result = client.submit(args.application_id, args.flow, args.idempotency_key)
        elif args.command == "timeline":
            result = client.timeline(args.application_id)
        elif args.command == "auto-submit":
            result = client.set_auto_submit(args.application_id, args.choice == "on")
        elif args.command == "withdraw":
            result = client.withdraw(args.application_id)
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
