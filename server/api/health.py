"""GET /healthz: the process answers (liveness, no I/O). GET /readyz: the database, cache and storage answer."""
from sanic import Blueprint, json
from sanic_ext import openapi
from tortoise import connections

from server import storage

health = Blueprint("health")


@health.get("/healthz")
@openapi.summary("Liveness: the process serves requests (touches nothing else)")
async def healthz(request):
    return json({"status": "ok"})


@health.get("/readyz")
@openapi.summary("Readiness: database, cache and file storage reachable (503 naming what is down)")
async def readyz(request):
    checks = {}
    try:
        await connections.get("default").execute_query("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means "down"; the name is enough for an operator
        checks["database"] = f"down: {exc.__class__.__name__}"
    try:
        checks["cache"] = "ok" if await request.app.ctx.cache.ping() else "down"
    except Exception as exc:
        checks["cache"] = f"down: {exc.__class__.__name__}"
    try:
        await storage.check(request.app.ctx.settings)
        checks["storage"] = "ok"
    except Exception as exc:
        checks["storage"] = f"down: {exc.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return json({"status": "ok" if ready else "degraded", **checks}, status=200 if ready else 503)
