"""电子档案 and 容e查 for staff: search, an entity's archive, a bundle as a zip, verification. Read only: the archive
has no write route."""
from __future__ import annotations

from sanic import Blueprint, Request, json, raw
from sanic_ext import openapi

from server.api.http import current_staff
from server.api.http import int_arg
from server.api.review import origin_of
from server.errors import NotFound
from server.services.archive import search

bp = Blueprint("archive", url_prefix="/api/v1/archive")


@bp.get("/")
@openapi.summary("容e查: search the archive by credit_code, name, applicant (a party's name or the applicant's phone), "
                 "from/to (decision date); every search is audited")
@openapi.parameter("credit_code", str)
@openapi.parameter("name", str)
@openapi.parameter("applicant", str)
@openapi.parameter("from", str)
@openapi.parameter("to", str)
@openapi.parameter("page", int)
@openapi.parameter("page_size", int)
@openapi.secured("bearer")
@openapi.response(200, description="{items: [{id, kind, outcome, credit_code, entity_name, decided_at, retention_label, "
                                    "manifest_sha256, ledger_seq, files, download_url, verify_url}], total}")
@openapi.response(422, description="no criterion, or a malformed one (field named)")
async def search_archive(request: Request):
    staff = await current_staff(request)
    args = request.args
    return json(await search.search(
        staff, origin_of(request), request.app.ctx.settings, credit_code=args.get("credit_code"),
        name=args.get("name"), applicant=args.get("applicant"), date_from=args.get("from"), date_to=args.get("to"),
        page=int_arg(request, "page", 1), page_size=int_arg(request, "page_size", 20)))


@bp.get("/verify")
@openapi.summary("Recompute the archive ledger and every file hash of every bundle (reviewers, administrators)")
@openapi.secured("bearer")
@openapi.response(200, description="{ok, entries, bundles_checked, head, problems: [{bundle_id, credit_code, path, "
                                    "reason, message}]}")
async def verify_archive(request: Request):
    staff = await current_staff(request)
    return json(await search.verify_all(staff, origin_of(request), request.app.ctx.settings))


@bp.get("/bundles/<bundle_id:str>/verify")
@openapi.summary("Recompute one bundle's hashes (and the ledger links)")
@openapi.secured("bearer")
@openapi.response(200, description="{ok, problems: [...]}")
@openapi.response(404, description="unknown bundle or outside the staff member's scope")
async def verify_bundle(request: Request, bundle_id: str):
    staff = await current_staff(request)
    return json(await search.verify_one(staff, origin_of(request), request.app.ctx.settings, bundle_id))


@bp.get("/bundles/<name:str>")
@openapi.summary("One bundle as a zip (`{id}.zip`): manifest.json, every file, its ledger entry, a README")
@openapi.secured("bearer")
@openapi.response(200, description="application/zip")
@openapi.response(404, description="unknown bundle or outside the staff member's scope")
async def bundle_zip(request: Request, name: str):
    staff = await current_staff(request)
    if not name.endswith(".zip"):
        raise NotFound("档案包不存在")
    filename, data = await search.bundle_zip(staff, origin_of(request), request.app.ctx.settings, name[:-4])
    return raw(data, content_type="application/zip",
               headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<credit_code:str>")
@openapi.summary("An entity's archived filings and scanned archives (staff), each verifiable and downloadable")
@openapi.secured("bearer")
@openapi.response(200, description="{credit_code, entity_name, items: [...]}")
@openapi.response(404, description="no archive for this code in the staff member's scope")
@openapi.response(422, description="not a valid 统一社会信用代码")
async def entity_archive(request: Request, credit_code: str):
    staff = await current_staff(request)
    return json(await search.entity_archive(staff, origin_of(request), credit_code))
