"""The application factory: one Sanic app per settings, shared clients on app.ctx."""
from __future__ import annotations

import asyncio
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from PIL import Image
from sanic import Sanic, json
from sanic_ext import Extend
from sanic_ext.extensions.http.extension import HTTPExtension
from sanic_ext.extensions.openapi.extension import OpenAPIExtension

from server import json_encoding, logs, metrics, storage
from server.api import register_blueprints
from server.api.http import (
    check_input,
    configure_proxies,
    install_header_sanitizer,
    protect_response,
    tidy_request_schemas,
)
from server.cache import invalidation, make_cache
from server.config import ConfigError, Settings
from server.crypto import configure as configure_crypto
from server.db import close_database, open_database
from server.errors import install_error_handlers
from server.safety import production_refusal
from server.faceid import TencentFaceId
from server.services.annual_reports.reminders import install_scheduler
from server.services.documents import prepare_documents
from server.services.documents.pades import load_certificate
from server.services.notifications.outbox import install_sender
from server.services.statistics.weekly import install_weekly_reports
from server.text_safety import shown_safely
from server.wechat import WeChatGateway

WEB_DIR = Path(__file__).resolve().parent / "web"


def create_app(settings: Settings, name: str = "yct", json_logs: bool = False) -> Sanic:
    """json_logs: `python -m server serve` logs JSON lines with request ids (tests keep pytest's log capture)."""
    app = Server(name, dumps=json_encoding.dumps, configure_logging=not json_logs)
    if json_logs:
        logs.configure()
    app.config.REQUEST_MAX_SIZE = settings.server.max_body_bytes
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.OAS_URL_PREFIX = "/docs"
    app.config.OAS_UI_DEFAULT = "swagger"
    app.config.OAS_UI_REDOC = False
    # Only the extensions we use: OpenAPI, and automatic HEAD/OPTIONS. Dependency injection (unused) would run a
    # signal handler on every request, and CORS (no origins are allowed) a response middleware that adds nothing.
    Extend(app, built_in_extensions=False, extensions=[OpenAPIExtension, HTTPExtension], config={"cors": False})
    app.ext.openapi.describe(
        "一窗通小程序后端（云帮办 · 码上导办）",
        version="1.0",
        description="Applicant, signing, back-office and 码上导办 routes. Errors: {error: {code, message, field}}.",
    )
    app.ext.openapi.add_security_scheme("bearer", "http", scheme="bearer")

    refusal = production_refusal(settings)
    if refusal:
        raise ConfigError(refusal)
    app.ctx.settings = settings
    # Pillow's own decompression-bomb guard at our cap; uploads are refused from the header before it (uploads.py).
    Image.MAX_IMAGE_PIXELS = settings.uploads.max_image_pixels
    configure_crypto(settings)
    # Stand-ins (/_mock/*) exist only in development; production has refused their settings already.
    development = settings.mode == "development"
    configure_proxies(app, settings)
    app.ctx.templates = Environment(
        loader=FileSystemLoader(WEB_DIR / "templates"), autoescape=select_autoescape(["html"]), enable_async=False,
        finalize=shown_safely,
    )

    if development and settings.wechat.mount_mock:
        from wxmock import MockState, create_blueprint

        app.ctx.wx_state = MockState(appid=settings.wechat.appid, secret=settings.wechat.secret)
        app.blueprint(create_blueprint(app.ctx.wx_state))

    if development and settings.email.enabled and settings.email.mount_mock and not settings.email.host:
        from mailmock import MailState, create_mail_blueprint

        app.ctx.mail_state = MailState()
        app.blueprint(create_mail_blueprint(app.ctx.mail_state))

    if development and settings.notary.mount_mock:
        from trustmock import NotaryState, create_notary_blueprint

        app.ctx.notary_state = NotaryState(hmac_key=settings.notary.hmac_key)
        app.blueprint(create_notary_blueprint(app.ctx.notary_state))
    if development and settings.documents.mount_mock_tsa:
        from trustmock import create_tsa_blueprint

        app.blueprint(create_tsa_blueprint(settings.documents.dev_certificate_dir))

    install_error_handlers(app)
    install_header_sanitizer()
    _install_request_hooks(app)
    app.blueprint(metrics.metrics)
    register_blueprints(app)
    tidy_request_schemas()
    install_sender(app)
    install_scheduler(app)
    install_weekly_reports(app)

    @app.before_server_start
    async def open_clients(app: Sanic):
        await open_database(settings)
        app.ctx.cache = make_cache(settings.cache.url)
        app.ctx.invalidation_listener = invalidation.start(app.ctx.cache)
        app.ctx.wechat = WeChatGateway(settings.wechat.appid, settings.wechat.secret, settings.wechat_api_base_url,
                                       settings.wechat.timeout_seconds)
        app.ctx.faceid = _faceid(app, settings)
        if settings.mode == "production":
            # A platform certificate that cannot be read stops the start, not the first signed PDF.
            await asyncio.to_thread(load_certificate, settings)
        # The document font and the development certificate are made once per machine; start on them now so the
        # first 云帮办通过 does not wait (a fresh machine needs tens of seconds for the font).
        app.ctx.documents_ready = asyncio.create_task(prepare_documents(settings))
        app.ctx.starting = True  # until it serves (Server.stop)

    @app.before_server_stop
    async def abandon_documents_preparation(app: Sanic):
        # Nobody needs the font any more: its build is killed, not waited for (prepare_documents).
        app.ctx.documents_ready.cancel()
        await asyncio.gather(app.ctx.documents_ready, return_exceptions=True)

    @app.after_server_stop
    async def close_clients(app: Sanic):
        await invalidation.stop(app.ctx.invalidation_listener)
        if getattr(app.ctx, "faceid_server", None) is not None:
            app.ctx.faceid_server.stop()
        await app.ctx.cache.close()
        await storage.close(settings)
        await close_database()

    return app


class Server(Sanic):
    """Our Sanic: a stop asked for while the server is still starting waits until it serves.

    SIGTERM and SIGINT call stop(), from the handler Sanic installs just before the after_server_start listeners.
    Sanic's stop() stops the event loop at once; one landing while those listeners finish is consumed by the loop
    run that awaits them, and the server then serves on as if no signal had come. Before that handler exists
    (imports, before_server_start, binding the port) a signal's default action ends the process at once."""

    def stop(self, terminate: bool = True, unregister: bool = False) -> None:
        # is_running is set just before the loop runs for good: a stop from then on ends that run.
        if getattr(self.ctx, "starting", False) and not self.state.is_running:
            if not getattr(self.ctx, "stop_waiting", False):
                self.ctx.stop_waiting = True
                asyncio.get_running_loop().call_later(0.05, self._stop_once_serving, terminate, unregister)
            return
        super().stop(terminate, unregister)

    def _stop_once_serving(self, terminate: bool, unregister: bool) -> None:
        if not self.state.is_running:
            asyncio.get_running_loop().call_later(0.05, self._stop_once_serving, terminate, unregister)
            return
        self.ctx.starting = False
        super().stop(terminate, unregister)


def _install_request_hooks(app: Sanic) -> None:
    """What every request pays for, in one middleware each way (Sanic dispatches two signals around every
    middleware it runs): the request id, the latency timer and the input gate; the latency histogram and the
    X-Request-ID header, the protective headers."""

    @app.on_request
    async def arrived(request):
        logs.request_arrived(request)
        metrics.request_arrived(request)
        check_input(request)

    @app.on_response
    async def answered(request, response):
        protect_response(response)
        metrics.request_answered(request, response)
        logs.request_answered(request, response)


def _faceid(app: Sanic, settings: Settings) -> TencentFaceId | None:
    """Tencent Cloud FaceID H5 at faceid.endpoint; without one (development), the stand-in started here."""
    if not settings.faceid.enabled:
        return None
    if settings.faceid.endpoint:
        return TencentFaceId(settings, settings.faceid.endpoint)
    if not (settings.mode == "development" and settings.faceid.mount_mock):
        return None
    from faceidmock import FaceIdServer, FaceIdState

    app.ctx.faceid_state = FaceIdState(settings.faceid.secret_id, settings.faceid.secret_key)
    app.ctx.faceid_server = FaceIdServer(app.ctx.faceid_state)
    app.ctx.faceid_server.start()
    return TencentFaceId(settings, f"http://{app.ctx.faceid_server.endpoint}")


def create_bare_app() -> Sanic:
    """A bare JSON route, the yardstick the benchmarks compare our routes against."""
    app = Sanic("yct_bare")

    @app.get("/bare")
    async def bare(request):
        return json({"ok": True})

    return app
