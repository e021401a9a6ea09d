"""Generated documents: 申请书/章程 and platform-signed PDFs per second for a three-shareholder company, and public
verification (POST /api/v1/verify) against a bare Sanic JSON route in the same run.

    .venv/bin/python -m bench.documents [--documents 200] [--signed 50] [--seconds 10] [--connections 32]

Generation and signing run in this process (one core). Verification runs against `python -m server serve` on a
fresh SQLite file, or on PostgreSQL / Redis when YCT_DATABASE__URL / YCT_CACHE__URL are set, after a real
云帮办 filing went through the API from login to the last signature; the per-IP limit is lifted for the run.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import ROOT, bare_server, our_server, print_table, wrk
from server.config import load_settings
from server.services.documents import content, pades, render
from server.services.documents.fonts import ensure_base_font

PASSWORD = "bench-password-42"
ENTITY = {"address": "崇左市江州区新民路1号", "business_scope": "软件开发；信息技术咨询服务", "contact_phone": "13800138000",
          "operating_term": "长期", "registered_capital": "300", "articles_from_model": True}


def _resident_id(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, weights)) % 11]


PEOPLE = [("李明", "45140219880512123", "13800138011", "40"), ("王芳", "45142119920228004", "13800138012", "35"),
          ("赵磊", "45140219790311045", "13800138013", "25")]


def parties() -> list[dict]:
    result = [{"role": "legal_rep", "kind": "person", "name": "李明", "id_type": "resident_id",
               "id_number": _resident_id(PEOPLE[0][1]), "phone": PEOPLE[0][2]},
              {"role": "liaison", "kind": "person", "name": "王芳", "id_type": "resident_id",
               "id_number": _resident_id(PEOPLE[1][1]), "phone": PEOPLE[1][2]}]
    for name, body, phone, share in PEOPLE:
        result.append({"role": "investor", "kind": "person", "name": name, "id_type": "resident_id",
                       "id_number": _resident_id(body), "phone": phone, "share_percent": share})
    return result


def snapshot() -> dict:
    return {"business_type": "establish", "entity_type": "llc", "authority_code": "451402",
            "name": "崇左云帆科技有限公司", "credit_code": None, "entity": ENTITY, "parties": parties(), "attachments": []}


def signature_png() -> bytes:
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (320, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 90), (90, 30), (170, 100), (290, 35)], fill=(0, 0, 0, 255), width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def generation(documents: int, signed: int) -> dict:
    """Documents/s (申请书 + 章程 rendered separately) and signed PDFs/s (render with signatures + PAdES B-B)."""
    settings = load_settings(documents={"dev_certificate_dir": tempfile.mkdtemp(prefix="yct-bench-cert-")})
    cache_dir = settings.documents.font_cache_dir
    ensure_base_font(cache_dir)
    data = snapshot()
    footer = render.Footer("YCT-0123456789ABCDEF", "a" * 64, "https://yct.example.gov.cn/verify")
    docs = content.documents_for(data, footer.reference, "江州区市场监督管理局")
    render.render([docs[0]], footer, cache_dir)  # warm up
    started = time.perf_counter()
    for index in range(documents):
        render.render([docs[index % len(docs)]], footer, cache_dir)
    doc_seconds = time.perf_counter() - started

    png = signature_png()
    placed = {signatory.identity: render.PlacedSignature(png, "2026-11-27 10:00:00") for signatory in docs[0].signatories}
    pages = [render.EvidencePage(f"签名证据（{n}）", tuple((f"项目{i}", "内容" * 10) for i in range(14)))
             for n in range(1, 4)]
    asyncio.run(pades.sign(settings, render.render(docs, footer, cache_dir)[0], "warm up"))
    started = time.perf_counter()
    for _ in range(signed):
        pdf, _ = render.render(docs, footer, cache_dir, signed=placed, evidence=pages, title="signed")
        asyncio.run(pades.sign(settings, pdf, "一窗通平台签署"))
    signed_seconds = time.perf_counter() - started
    return {"documents": documents, "documents_per_second": documents / doc_seconds,
            "signed": signed, "signed_per_second": signed / signed_seconds}


def staff_headers(base: str, env: dict) -> dict:
    subprocess.run([sys.executable, "-m", "server", "staff", "add", "bench-reviewer", "--role", "reviewer",
                    "--authority", "451402"], input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True,
                   capture_output=True)
    token = httpx.post(base + "/api/v1/staff/login",
                       json={"username": "bench-reviewer", "password": PASSWORD}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def signed_filing(base: str, env: dict) -> str:
    """One 云帮办 establishment with three shareholders, through the API to the last signature → signed.pdf's hash."""
    from wxmock.phone import PhoneClient

    staff = staff_headers(base, env)
    with PhoneClient(base, "bench-applicant") as phone:
        phone.login()
        phone.bind_phone("13800138010")
        phone.reserve_name("崇左云帆科技有限公司")
        filled = phone.fill_application("establish", "llc", "451402", name="崇左云帆科技有限公司", entity=ENTITY,
                                        parties=parties())
        phone.submit(filled["id"], "cloud", "bench-submit")
        httpx.post(f"{base}/api/v1/review/applications/{filled['id']}/approve-lock", headers=staff,
                   timeout=60).raise_for_status()
        links = []
        for _ in range(100):  # the outbox delivers the links within a few polls
            links = [m["params"]["link"] for m in phone.sms_inbox() if m["template"] == "signing_link"]
            if len(links) == 3:
                break
            time.sleep(0.2)
        for link in links:
            phone.sign_link(link)
        listed = phone.ok("GET", f"/api/v1/applications/{filled['id']}/documents")
    return next(doc["sha256"] for doc in listed if doc["kind"] == "signed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--signed", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    made = generation(args.documents, args.signed)
    print(f"\ndocuments: {made['documents']} rendered at {made['documents_per_second']:.1f} documents/s "
          f"(申请书 and 章程 alternately, one core)")
    print(f"signed PDFs: {made['signed']} at {made['signed_per_second']:.1f}/s (申请书 + 章程 with three signatures, "
          f"three evidence pages, PAdES B-B by the development certificate)")

    load = {"seconds": args.seconds, "connections": args.connections}
    extra = {"YCT_DOCUMENTS__VERIFY_PER_MINUTE": "100000000",
             "YCT_DOCUMENTS__DEV_CERTIFICATE_DIR": tempfile.mkdtemp(prefix="yct-bench-cert-")}
    with bare_server() as bare, our_server(extra) as (base, env):
        digest = signed_filing(base, env)
        script = Path(tempfile.mkdtemp(prefix="yct-bench-wrk-")) / "verify.lua"
        script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                          f'wrk.body = \'{{"sha256": "{digest}"}}\'\n')
        assert httpx.post(base + "/api/v1/verify", json={"sha256": digest}).json()["found"] is True
        baseline = wrk(bare + "/bare", **load)
        verified = wrk(base + "/api/v1/verify", script=str(script), **load)
    print_table(f"public verification ({args.connections} connections, {args.seconds}s each, wrk)", [
        ("bare Sanic JSON route  GET /bare", baseline),
        ("POST /api/v1/verify {sha256} (signed.pdf)", verified),
    ], baseline)
    print(json.dumps({**made, "bare": baseline, "verify": verified,
                      "verify_vs_bare": verified["rps"] / baseline["rps"]}))


if __name__ == "__main__":
    main()
