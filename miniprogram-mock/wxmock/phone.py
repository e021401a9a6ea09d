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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wxmock.phone", description="scripted mini-program client")
    parser.add_argument("--server", default="http://127.0.0.1:8000")
    parser.add_argument("--openid", default="demo-openid")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("login", help="log in and print the session")
    phone = commands.add_parser("bind-phone", help="log in and bind a phone number")
    phone.add_argument("phone")
    commands.add_parser("applications", help="log in and list my applications")
    args = parser.parse_args(argv)
    with PhoneClient(args.server, args.openid) as client:
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
