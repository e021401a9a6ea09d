"""Applicant routes for applications (the mini-program's forms)."""
from __future__ import annotations

from sanic import Blueprint, Request, json
from sanic_ext import openapi

from server.api.http import current_applicant
from server.services import applications

bp = Blueprint("applications", url_prefix="/api/v1/applications")


@bp.get("")
@openapi.summary("My applications, newest first")
@openapi.secured("bearer")
async def list_mine(request: Request):
    me = await current_applicant(request)
    return json(await applications.list_for_applicant(me.id))
