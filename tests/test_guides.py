"""码上导办 admin API: service points in the admin's scope, QR codes and posters, guide content, scan statistics."""
import hashlib
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
from PIL import Image, ImageFont

from server import storage
from server.models.guides import PointScanDay
from server.services.guides import fonts, scans
from server.services.guides.posters import TITLE_LINES
from tests.helpers import create_guide, create_point, create_staff, pdf_bytes

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 40
PDF = pdf_bytes()


def decode_qr(png: bytes) -> str:
    """OpenCV's ArUco-based detector; its classic detector misses some clean codes (phones' decoders do not)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, _, _ = cv2.QRCodeDetectorAruco().detectAndDecode(image)
    return text


async def admin_login(client, username="admin1", authority="451400"):
    return await create_staff(client, username, "admin", authority)


async def make_poster(client, admin, point):
    response = await client.post(f"/api/v1/admin/points/{point['id']}/poster", headers=admin["headers"])
    assert response.status_code == 200, response.text
    return response.json()


# --- Service points -------------------------------------------------------------------------------

async def test_admin_creates_point_with_unguessable_code_and_lists_it(client, server):
    admin = await admin_login(client)
    point = await create_point(client, admin, authority="451402", name="江州区政务服务中心登记窗口",
                               type="registration_window", has_public_notice=False)
    other = await create_point(client, admin)
    assert len(point["code"]) >= 8 and point["code"] != other["code"] and point["code"].isalnum()
    assert point["landing_url"] == f"{server.base_url}/g/{point['code']}"
    assert point["authority"] == {"code": "451402", "name": "江州区"}
    assert point["has_sign"] and not point["has_public_notice"] and not point["six_has_complete"]
    assert point["files"] is None
    listed = (await client.get("/api/v1/admin/points", headers=admin["headers"])).json()
    assert {p["id"] for p in listed} == {point["id"], other["id"]}
    windows = (await client.get("/api/v1/admin/points?type=registration_window", headers=admin["headers"])).json()
    assert [p["id"] for p in windows] == [point["id"]]


async def test_bad_point_fields_are_refused_by_name_and_nothing_is_created(client):
    admin = await admin_login(client)
    base = {"name": "网点", "type": "bank_branch", "authority_code": "451400"}
    cases = [({"type": "casino"}, "type"), ({"hotline": "call me"}, "hotline"), ({"name": ""}, "name"),
             ({"authority_code": "999999"}, "authority_code"), ({"authority_code": "450100"}, "authority_code"),
             ({"has_sign": "maybe"}, "has_sign"), ({"colour": "red"}, "colour"), ({"name": "网点\U0010fffd"}, "name")]
    for change, field in cases:
        response = await client.post("/api/v1/admin/points", json={**base, **change}, headers=admin["headers"])
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["field"] == field
    assert (await client.get("/api/v1/admin/points", headers=admin["headers"])).json() == []


async def test_patch_changes_only_the_fields_sent(client):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    response = await client.patch(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"],
                                  json={"hotline": "0771-1234567", "has_staff": False})
    assert response.status_code == 200
    changed = response.json()
    assert changed["hotline"] == "0771-1234567" and changed["has_staff"] is False
    assert changed["name"] == point["name"] and changed["code"] == point["code"]
    refused = await client.patch(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"], json={"name": None})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "name"


async def test_admin_routes_refuse_other_roles(client):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    for role in ("reviewer", "helper"):
        other = await create_staff(client, f"{role}1", role, "451400")
        calls = [("POST", "/api/v1/admin/points", {"name": "x", "type": "mall", "authority_code": "451400"}),
                 ("GET", "/api/v1/admin/points", None), ("GET", f"/api/v1/admin/points/{point['id']}", None),
                 ("PATCH", f"/api/v1/admin/points/{point['id']}", {"name": "y"}),
                 ("POST", f"/api/v1/admin/points/{point['id']}/poster", None),
                 ("GET", f"/api/v1/admin/points/{point['id']}/scans", None),
                 ("POST", "/api/v1/admin/guides", {"kind": "guide", "title": "t", "authority_code": "451400", "body": "b"}),
                 ("GET", "/api/v1/admin/guides", None)]
        for method, url, body in calls:
            response = await client.request(method, url, json=body, headers=other["headers"])
            assert response.status_code == 403, (role, method, url)
    client.cookies.clear()  # the console cookie of the last login
    assert (await client.get("/api/v1/admin/points")).status_code == 401
    unchanged = (await client.get(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"])).json()
    assert unchanged["name"] == point["name"]


async def test_another_authoritys_point_is_404(client):
    nanning = await admin_login(client, "nanning-admin", "450100")
    theirs = await create_point(client, nanning, authority="450102", name="南宁兴宁区网点")
    chongzuo = await admin_login(client, "chongzuo-admin", "451400")
    for method, url in [("GET", f"/api/v1/admin/points/{theirs['id']}"),
                        ("PATCH", f"/api/v1/admin/points/{theirs['id']}"),
                        ("POST", f"/api/v1/admin/points/{theirs['id']}/poster"),
                        ("GET", f"/api/v1/admin/points/{theirs['id']}/scans")]:
        body = {"name": "改名"} if method == "PATCH" else None
        assert (await client.request(method, url, json=body, headers=chongzuo["headers"])).status_code == 404
    assert (await client.get("/api/v1/admin/points", headers=chongzuo["headers"])).json() == []
    county = await admin_login(client, "jiangzhou-admin", "451402")
    city_point = await create_point(client, chongzuo, authority="451400")
    assert (await client.get(f"/api/v1/admin/points/{city_point['id']}", headers=county["headers"])).status_code == 404


# --- QR codes and posters -------------------------------------------------------------------------

async def test_qr_code_png_svg_and_poster_lead_to_the_landing_page(client, server):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    made = await make_poster(client, admin, point)
    files = made["files"]
    assert set(files) == {"qr_png", "qr_svg", "poster_png", "poster_pdf"}
    landing = f"{server.base_url}/g/{point['code']}"
    assert made["landing_url"] == landing

    qr = await client.get(files["qr_png"]["url"])
    assert qr.status_code == 200 and qr.headers["content-type"] == "image/png"
    assert decode_qr(qr.content) == landing
    svg = await client.get(files["qr_svg"]["url"])
    assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content

    poster = await client.get(files["poster_png"]["url"])
    image = Image.open(__import__("io").BytesIO(poster.content))
    assert image.size == (2480, 3508)
    assert round(image.info["dpi"][0]) == 300
    assert decode_qr(poster.content) == landing
    pdf = await client.get(files["poster_pdf"]["url"])
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert await storage.get(server.settings, storage.QRCODES, files["poster_pdf"]["name"]) == pdf.content
    listed = (await client.get(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"])).json()
    assert listed["files"] == files


async def test_qr_code_uses_error_correction_m_or_better(client, server):
    import qrcode

    admin = await admin_login(client)
    point = await create_point(client, admin)
    files = (await make_poster(client, admin, point))["files"]
    image = cv2.imdecode(np.frombuffer((await client.get(files["qr_png"]["url"])).content, np.uint8),
                         cv2.IMREAD_GRAYSCALE)
    matching = []
    for name in ("L", "M", "Q", "H"):
        code = qrcode.QRCode(error_correction=getattr(qrcode.constants, f"ERROR_CORRECT_{name}"), border=4)
        code.add_data(point["landing_url"])
        matrix = code.get_matrix()
        n = len(matrix)
        sampled = [[image[int((r + 0.5) * image.shape[0] / n), int((c + 0.5) * image.shape[1] / n)] < 128
                    for c in range(n)] for r in range(n)]
        if sampled == matrix:
            matching.append(name)
    assert matching and matching[0] in ("M", "Q", "H")


async def test_regenerating_a_poster_is_idempotent(client, server):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    first = (await make_poster(client, admin, point))["files"]
    on_disk = not server.settings.storage.url
    directory = Path(server.settings.qrcode_dir)

    async def stored():
        return {kind: (await storage.get(server.settings, storage.QRCODES, f["name"]),
                       (directory / f["name"]).stat().st_mtime_ns if on_disk else None) for kind, f in first.items()}

    before = await stored()
    second = (await make_poster(client, admin, point))["files"]
    assert second == first
    assert await stored() == before  # same bytes, and on disk not even rewritten
    if on_disk:
        assert not [p for p in directory.iterdir() if p.name.startswith(".")]


async def test_renaming_a_point_reprints_its_poster(client, server):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    files = (await make_poster(client, admin, point))["files"]
    before = await storage.get(server.settings, storage.QRCODES, files["poster_png"]["name"])
    response = await client.patch(f"/api/v1/admin/points/{point['id']}", headers=admin["headers"],
                                  json={"name": "崇左市万达广场帮办点"})
    assert response.status_code == 200
    after = await storage.get(server.settings, storage.QRCODES, files["poster_png"]["name"])
    assert hashlib.sha256(after).hexdigest() != hashlib.sha256(before).hexdigest()
    assert decode_qr(after) == point["landing_url"]


def test_poster_title_glyphs_are_real_glyphs_not_the_missing_glyph_box():
    path, index = fonts.font_file("bold")
    face = ImageFont.truetype(path, 96, index=index)
    notdef = face.getmask(fonts.NOTDEF_PROBE)
    notdef_pixels = (notdef.size, bytes(notdef))
    assert notdef.size[0] > 0  # the box itself is drawn, so a missing glyph would be caught
    for char in "".join(TITLE_LINES) + "导办小视频申请表格一次性告知单崇左市市场监督管理局":
        mask = face.getmask(char)
        assert (mask.size, bytes(mask)) != notdef_pixels, char
    assert fonts.missing_glyphs("登记服务") == []
    assert fonts.missing_glyphs("码\U0010fffd") == ["\U0010fffd"]


def test_missing_font_fails_with_a_clear_message(tmp_path):
    fonts.font_file.cache_clear()
    try:
        fonts.font_file("bold", str(tmp_path / "no-such-font.ttc"))
    except fonts.FontMissing as exc:
        assert "fonts-noto-cjk" in str(exc)
    else:
        raise AssertionError("a missing font must be reported")
    finally:
        fonts.font_file.cache_clear()


async def test_posters_command_makes_every_points_poster_with_progress(client, server, tmp_path):
    admin = await admin_login(client)
    made = [await create_point(client, admin, name=f"网点{i}") for i in range(3)]
    env = {**os.environ, "YCT_DATABASE__URL": server.settings.database.url, "YCT_QRCODE_DIR": str(tmp_path),
           "YCT_CACHE__URL": "memory://", "YCT_PUBLIC_BASE_URL": server.base_url}
    done = subprocess.run([sys.executable, "-m", "server", "posters"], env=env, capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    assert "3/3" in done.stderr  # tqdm's progress bar
    written = server.settings.model_copy(update={"qrcode_dir": str(tmp_path)})
    for point in made:
        poster = await storage.get(written, storage.QRCODES, f"point-{point['code']}-poster.png")
        assert decode_qr(poster) == point["landing_url"]


# --- Guide content --------------------------------------------------------------------------------

async def test_guide_files_are_checked_by_content(client):
    admin = await admin_login(client)
    video = await create_guide(client, admin, "video", "设立登记操作视频")
    form = await create_guide(client, admin, "form", "公司登记（备案）申请书")
    wrong_video = await client.put(f"/api/v1/admin/guides/{video['id']}/file", headers=admin["headers"],
                                   files={"file": ("a.mp4", PDF)})
    assert wrong_video.status_code == 422 and wrong_video.json()["error"]["field"] == "file"
    wrong_form = await client.put(f"/api/v1/admin/guides/{form['id']}/file", headers=admin["headers"],
                                  files={"file": ("a.pdf", b"just text")})
    assert wrong_form.status_code == 422 and wrong_form.json()["error"]["field"] == "file"
    missing = await client.put(f"/api/v1/admin/guides/{form['id']}/file", headers=admin["headers"],
                               data={"x": "1"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "file"
    listed = (await client.get("/api/v1/admin/guides", headers=admin["headers"])).json()
    assert all(item["file"] is None for item in listed)


async def test_bad_guide_fields_are_refused_by_name(client):
    admin = await admin_login(client)
    cases = [({"kind": "podcast"}, "kind"), ({"kind": "form", "external_url": "https://x.cn/a"}, "external_url"),
             ({"kind": "video", "external_url": "javascript:alert(1)"}, "external_url"),
             ({"kind": "guide", "body": "  "}, "body"), ({"kind": "guide", "body": "b", "authority_code": "450100"},
                                                         "authority_code")]
    for change, field in cases:
        body = {"title": "标题", "authority_code": "451400", **change}
        response = await client.post("/api/v1/admin/guides", json=body, headers=admin["headers"])
        assert response.status_code == 422 and response.json()["error"]["field"] == field, (change, response.text)


async def test_video_is_served_with_range_requests(client):
    admin = await admin_login(client)
    video = await create_guide(client, admin, "video", "设立登记操作视频", file=("guide.mp4", MP4))
    assert video["file"]["content_type"] == "video/mp4" and video["file"]["size"] == len(MP4)
    url = video["file"]["url"]
    whole = await client.get(url)
    assert whole.status_code == 200 and whole.content == MP4 and whole.headers["accept-ranges"] == "bytes"
    part = await client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == MP4[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(MP4)}"
    tail = await client.get(url, headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == MP4[-16:]
    beyond = await client.get(url, headers={"Range": f"bytes={len(MP4) + 10}-"})
    assert beyond.status_code == 416
    large = MP4 + bytes(range(256)) * 5000  # past 1 MB: streamed in chunks
    big = await create_guide(client, admin, "video", "长视频", file=("long.mp4", large))
    middle = await client.get(big["file"]["url"], headers={"Range": "bytes=1000000-1000099"})
    assert middle.status_code == 206 and middle.content == large[1000000:1000100]
    assert (await client.get(big["file"]["url"])).content == large
    hidden = await client.patch(f"/api/v1/admin/guides/{video['id']}", headers=admin["headers"], json={"active": False})
    assert hidden.status_code == 200
    assert (await client.get(url)).status_code == 404


async def test_form_downloads_under_its_name(client):
    admin = await admin_login(client)
    form = await create_guide(client, admin, "form", "公司登记（备案）申请书", file=("公司登记申请书.pdf", PDF))
    response = await client.get(form["file"]["url"])
    assert response.status_code == 200 and response.content == PDF
    assert "attachment" in response.headers["content-disposition"]
    assert "%E5%85%AC%E5%8F%B8" in response.headers["content-disposition"]  # 公司, UTF-8 encoded


# --- Scan statistics ------------------------------------------------------------------------------

async def test_scans_are_counted_per_day_with_unique_visitors(client, server):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    other = await create_point(client, admin, name="另一个网点")
    for agent in ("phone-a", "phone-a", "phone-b"):
        assert (await client.get(f"/g/{point['code']}", headers={"User-Agent": agent})).status_code == 200
    await client.get(f"/g/{other['code']}")
    await client.get("/g/NOSUCHCODE1")
    report = (await client.get(f"/api/v1/admin/points/{point['id']}/scans", headers=admin["headers"])).json()
    today = scans.local_today(server.settings).isoformat()
    assert report["days"] == [{"day": today, "scans": 3, "unique_visitors": 2}]
    assert report["total_scans"] == 3
    await client.get(f"/g/{point['code']}", headers={"User-Agent": "phone-a"})
    again = (await client.get(f"/api/v1/admin/points/{point['id']}/scans?days=7", headers=admin["headers"])).json()
    assert again["days"] == [{"day": today, "scans": 4, "unique_visitors": 2}]
    bad = await client.get(f"/api/v1/admin/points/{point['id']}/scans?days=x", headers=admin["headers"])
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "days"


async def test_a_scan_counts_on_the_local_day_the_clock_is_in(client, server, clock):
    """The worker remembers the bounds of the local day it counts in: a scan after local midnight, or with the
    clock moved back, is counted on the clock's day, not the remembered one."""
    admin = await admin_login(client)
    point = await create_point(client, admin)
    beijing = ZoneInfo(server.settings.review.timezone)
    clock.set(datetime(2026, 3, 1, 23, 59, 59, tzinfo=beijing))
    await client.get(f"/g/{point['code']}")
    clock.advance(timedelta(seconds=2))
    await client.get(f"/g/{point['code']}")
    clock.set(datetime(2026, 3, 1, 0, 0, tzinfo=beijing))
    await client.get(f"/g/{point['code']}")
    await scans.flush(server.app.ctx.cache)
    days = await PointScanDay.filter(point_id=point["id"]).order_by("day").values_list("day", "scans")
    assert days == [(date(2026, 3, 1), 2), (date(2026, 3, 2), 1)]


async def test_background_flush_moves_counters_to_the_database(client, server):
    admin = await admin_login(client)
    point = await create_point(client, admin)
    await client.get(f"/g/{point['code']}")
    await client.get(f"/g/{point['code']}")
    assert await scans.flush(server.app.ctx.cache) >= 1
    row = await PointScanDay.get(point_id=point["id"])
    assert (row.scans, row.unique_visitors) == (2, 1)
    assert await scans.flush(server.app.ctx.cache) == 0
    await client.get(f"/g/{point['code']}", headers={"User-Agent": "another phone"})
    await scans.flush(server.app.ctx.cache)
    await row.refresh_from_db()
    assert (row.scans, row.unique_visitors) == (3, 2)


async def test_seed_demo_adds_points_and_guide_content_once(server):
    from server.models.guides import GuideItem, ServicePoint
    from server.services.guides.demo import DEMO_GUIDES, DEMO_POINTS, seed_demo_guides

    first = await seed_demo_guides(server.settings)
    await seed_demo_guides(server.settings)
    assert await ServicePoint.all().count() == len(DEMO_POINTS)
    assert await GuideItem.all().count() == len(DEMO_GUIDES)
    codes = {point.code for point in await ServicePoint.all()}
    assert all(any(code in line for line in first) for code in codes)
