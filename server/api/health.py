"""GET /healthz: is the database reachable, is the cache reachable."""
from sanic import Blueprint, json
from sanic_ext import openapi
from tortoise import connections

health = Blueprint("health")


@health.get("/healthz")
@openapi.summary("Database and cache health")
async def healthz(request):
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
    healthy = all(value == "ok" for value in checks.values())
    return json({"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503)
