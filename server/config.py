"""Settings: config.yaml plus YCT_<SECTION>__<KEY> environment overrides, validated once at start."""
from __future__ import annotations

import json
import os
import re
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from server.safety import DEFAULT_SECRET_KEY, production_refusal

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = ROOT / "config.yaml"
ENV_PREFIX = "YCT_"


class ConfigError(Exception):
    """A setting is wrong; the message is one line naming the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1, le=64)
    max_body_bytes: int = Field(12 * 1024 * 1024, ge=1024)
    access_log: bool = False
    debug: bool = False
    # Reverse proxies whose forwarded header is believed (addresses or CIDR ranges); from any other peer the
    # connection's own address is the client's. proxies_count: trusted proxies in front of us, each appending one
    # X-Forwarded-For entry (Sanic's PROXIES_COUNT).
    trusted_proxies: list[str] = []
    proxies_count: int = Field(1, ge=1, le=10)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an address or CIDR range: {entry!r}") from None
        return value


class DatabaseSettings(_Section):
    url: str = "sqlite://data/yct.sqlite3"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value


class CacheSettings(_Section):
    url: str = "memory://"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "unix://")):
            raise ValueError("must be memory:// or redis://host:port/db")
        return value


class WeChatSettings(_Section):
    appid: str = "wxdevappid0000001"
    secret: str = "dev-secret"
    # Empty means: the stand-in server this process mounts under /_mock/wx.
    api_base_url: str = ""
    mount_mock: bool = True
    timeout_seconds: float = Field(5.0, gt=0, le=60)
    face_result_max_age_seconds: int = Field(600, ge=30)
    subscribe_templates: dict[str, str] = Field(default_factory=dict)


class PhoneLimits(_Section):
    per_minute: int = Field(ge=1)
    per_hour: int = Field(ge=1)
    per_day: int = Field(ge=1)


class SmsSettings(_Section):
    provider: Literal["dev_sink", "aliyun", "tencent"] = "dev_sink"
    sign_name: str = "一窗通"
    access_key_id: str = ""
    access_key_secret: str = ""
    endpoint: str = ""
    sdk_app_id: str = ""
    region: str = "ap-guangzhou"
    templates: dict[str, str] = Field(default_factory=dict)
    # Per-phone limits of verification codes (the providers' own: 1/min, 5/h, 10/day).
    per_minute: int = Field(1, ge=1)
    per_hour: int = Field(5, ge=1)
    per_day: int = Field(10, ge=1)
    # Signing links, reminders, results: their own budget, never spent by notices, claimed before them.
    transactional: PhoneLimits = Field(default_factory=lambda: PhoneLimits(per_minute=3, per_hour=20, per_day=50))
    # 事后确认 notices: coalesced per phone and application within notice_coalesce_seconds into one message.
    notice: PhoneLimits = Field(default_factory=lambda: PhoneLimits(per_minute=1, per_hour=5, per_day=10))
    notice_coalesce_seconds: int = Field(120, ge=0, le=3600)
    code_ttl_seconds: int = Field(300, ge=60)
    code_max_attempts: int = Field(5, ge=1)
    timeout_seconds: float = Field(10.0, gt=0, le=60)


class OutboxSettings(_Section):
    """The background sender that delivers the outbox (SMS and WeChat subscribe messages)."""

    enabled: bool = True
    poll_seconds: float = Field(1.0, gt=0, le=60)
    # Messages claimed with one guarded UPDATE and recorded with one batched write per round.
    batch_size: int = Field(200, ge=1, le=5000)
    # Provider calls in flight per worker, per provider (sms.provider's name, wechat, email, notary) unless
    # provider_concurrency names its own limit, e.g. {aliyun: 50, wechat: 20}.
    concurrency: int = Field(16, ge=1, le=256)
    provider_concurrency: dict[str, int] = Field(default_factory=dict)
    # A row stuck in 'sending' this long (its sender died) is reconciled with the provider and retried;
    # it must outlast a round: a lookup plus a send, each up to sms.timeout_seconds.
    lease_seconds: int = Field(60, ge=1)
    max_attempts: int = Field(8, ge=1, le=50)
    retry_base_seconds: float = Field(10.0, gt=0)
    retry_max_seconds: float = Field(3600.0, gt=0)


class UploadSettings(_Section):
    dir: str = "data/uploads"
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    allowed_types: list[str] = Field(default_factory=lambda: ["image/jpeg", "image/png", "application/pdf"])
    # Checked from the image header before decoding: 25 MP is a 100 MB RGBA bitmap at most.
    max_image_pixels: int = Field(25_000_000, ge=10_000)
    max_pdf_pages: int = Field(100, ge=1)


class StorageSettings(_Section):
    """Where files are kept (server/storage.py). Empty url: the local directories (uploads.dir, qrcode_dir,
    signing.evidence_dir); s3://bucket/prefix: an S3-compatible service, so web nodes keep no files."""

    url: str = ""
    endpoint_url: str = ""        # empty: AWS; else e.g. http://minio:9000
    region: str = ""
    access_key_id: str = ""       # empty: the usual AWS credential chain (environment, instance role)
    secret_access_key: str = ""
    addressing_style: Literal["auto", "path", "virtual"] = "path"
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    max_connections: int = Field(32, ge=1, le=512)

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", value):
            raise ValueError("must be empty (local directories) or s3://bucket/prefix")
        return value


class SigningSettings(_Section):
    link_ttl_hours: int = Field(48, ge=1, le=24 * 30)
    # Also send a WeChat URL Link that opens the mini-program's signing page (needs a published mini-program).
    wechat_url_link: bool = False
    miniprogram_sign_page: str = "pages/sign/index"
    signature_max_bytes: int = Field(512 * 1024, ge=1024)
    face_attempts_per_hour: int = Field(10, ge=1)
    evidence_dir: str = "data/evidence"
    # Who applies enterprises' e-seals / e-licenses (server/signing_providers); only the development one ships.
    # "none": no platform connected yet, so an enterprise signatory is told e-seal signing is unavailable.
    enterprise_provider: Literal["development", "none"] = "development"
    # Reminders to each unsigned signatory, this many hours before the link expires (once per offset).
    reminder_hours: list[int] = Field(default_factory=lambda: [24, 2])

    @field_validator("reminder_hours")
    @classmethod
    def _positive_offsets(cls, value: list[int]) -> list[int]:
        if any(hours < 1 for hours in value):
            raise ValueError("every reminder offset must be at least 1 hour")
        return sorted(set(value), reverse=True)


class FaceIdSettings(_Section):
    """Face verification from a plain phone browser: Tencent Cloud FaceID H5 (慧眼). Empty endpoint: the stand-in
    this server starts (development); production: https://faceid.tencentcloudapi.com with the account's keys."""

    enabled: bool = True
    secret_id: str = "dev-faceid-id"
    secret_key: str = "dev-faceid-key"
    region: str = "ap-guangzhou"
    rule_id: str = "1"
    endpoint: str = ""
    mount_mock: bool = True
    timeout_seconds: float = Field(10.0, gt=0, le=60)


class EmailSettings(_Section):
    """事后确认 by e-mail (seed 004 "短信或者邮件") over SMTP; empty host: the stand-in on this server."""

    enabled: bool = True
    host: str = ""
    port: int = Field(0, ge=0, le=65535)
    username: str = ""
    password: str = ""
    use_tls: bool = False
    start_tls: bool = False
    sender: str = "一窗通 <noreply@yct.example.gov.cn>"
    timeout_seconds: float = Field(10.0, gt=0, le=60)
    # Development: an in-process SMTP stand-in (miniprogram-mock/mailmock) keeps what it receives.
    mount_mock: bool = True


class CoverageTarget(_Section):
    by: date
    share: float = Field(gt=0, le=1)


class EnterpriseAccountsSettings(_Section):
    # Seed 001: the legal representative signs the 授权委托书 within 48 hours.
    signing_hours: int = Field(48, ge=1, le=24 * 30)
    # Seed 001's campaign: 40% of registered entities by the end of August, 70% by the end of October.
    coverage_targets: list[CoverageTarget] = Field(default_factory=lambda: [
        CoverageTarget(by=date(2026, 8, 31), share=0.4), CoverageTarget(by=date(2026, 10, 31), share=0.7)])


class AuthSettings(_Section):
    session_ttl_hours: int = Field(72, ge=1)
    login_attempts_per_minute: int = Field(30, ge=1)
    staff_max_failed_logins: int = Field(5, ge=1)
    staff_lockout_minutes: int = Field(15, ge=1)


class NamesSettings(_Section):
    reservation_days: int = Field(60, ge=1)


class ReviewSettings(_Section):
    cloud_review_working_hours: float = Field(3.0, gt=0)
    registration_working_days: int = Field(3, ge=1)
    timezone: str = "Asia/Shanghai"

    @model_validator(mode="after")
    def _zone_is_real(self) -> "ReviewSettings":
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.timezone}") from None
        return self


class CalendarSettings(_Section):
    """The working calendar: working hours of a working day (the gap between periods is the lunch break)."""

    working_hours: list[str] = Field(default_factory=lambda: ["09:00-12:00", "14:30-17:30"], min_length=1)
    # Empty: server/data/calendar.yaml (holidays of a year chinese-calendar does not know yet, local closures).
    overrides_file: str = ""

    @field_validator("working_hours")
    @classmethod
    def _periods_in_order(cls, periods: list[str]) -> list[str]:
        previous_end = None
        for period in periods:
            try:
                opens, closes = (time.fromisoformat(part.strip()) for part in period.split("-"))
            except ValueError:
                raise ValueError(f"{period!r}: a period is HH:MM-HH:MM") from None
            if closes <= opens or (previous_end and opens < previous_end):
                raise ValueError(f"{period!r}: periods must end after they start, in order, without overlap")
            previous_end = closes
        return [period.replace(" ", "") for period in periods]


class AppointmentsSettings(_Section):
    """Booking a slot at a help point."""

    booking_days_ahead: int = Field(14, ge=1, le=90)
    check_in_minutes_before: int = Field(60, ge=0, le=240)
    reminder_hour: int = Field(9, ge=0, le=23)  # the day before, local time
    no_show_limit: int = Field(3, ge=1)          # this many no-shows …
    no_show_window_days: int = Field(30, ge=1)   # … within this many days …
    block_days: int = Field(7, ge=1)             # … block booking for this many days
    # The code behind the QR a helper shows for 代办: short, so that scanning it means standing at the point.
    helper_code_minutes: int = Field(10, ge=1, le=60)


class GuidesSettings(_Section):
    landing_cache_seconds: float = Field(60, ge=0, le=3600)
    scan_flush_seconds: float = Field(60, gt=0, le=3600)
    url_link_days: int = Field(30, ge=1, le=30)
    miniprogram_home_path: str = "pages/index/index"
    miniprogram_booking_path: str = "pages/appointments/book"
    # Empty: find Noto Sans CJK (Debian fonts-noto-cjk) by its known paths, then fc-match.
    font_path: str = ""
    file_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)


class DocumentsSettings(_Section):
    """Generated 申请书/章程, the platform's PAdES signature and public verification."""

    # The document font (Noto Sans CJK converted to TrueType outlines once) is kept here between starts.
    font_cache_dir: str = "data/fonts"
    # The platform's signing certificate and key (PKCS#12). Empty: a development chain made under
    # dev_certificate_dir on first start; production refuses to start without one.
    pkcs12: str = ""
    pkcs12_password: str = ""
    dev_certificate_dir: str = "data/platform-certificate"
    # RFC 3161 time-stamping authority: set → PAdES B-T, empty → PAdES B-B.
    tsa_url: str = ""
    tsa_timeout_seconds: float = Field(10.0, gt=0, le=60)
    # Serve a stand-in TSA under /_mock/tsa (development and tests only).
    mount_mock_tsa: bool = False
    verify_per_minute: int = Field(30, ge=1)
    # Below server.max_body_bytes, so an oversized upload gets this 413 with its field named.
    verify_max_bytes: int = Field(10 * 1024 * 1024, ge=1024)


class NotarySettings(_Section):
    """一键公证 (seed 004): every evidence entry pushed to the notary's data centre."""

    enabled: bool = True
    # Empty: the stand-in notary this process mounts under /_mock/notary.
    url: str = ""
    mount_mock: bool = True
    hmac_key: str = Field("dev-notary-key", min_length=8)
    timeout_seconds: float = Field(10.0, gt=0, le=60)


class ArchiveSettings(_Section):
    """The electronic archive (电子档案): 保管期限 of each outcome in years; null keeps a bundle for ever (永久)."""

    retention_years_approved: int | None = Field(None, ge=1)
    retention_years_rejected: int | None = Field(30, ge=1)
    retention_years_withdrawn: int | None = Field(10, ge=1)
    retention_years_scanned: int | None = Field(None, ge=1)
    search_page_size_max: int = Field(100, ge=1, le=1000)


class AnnualReportsSettings(_Section):
    """年报 reminders: month-day dates inside 1 January – 30 June, each sent at most once per unreported entity."""

    reminder_dates: list[str] = Field(default_factory=lambda: ["03-01", "05-01", "06-01", "06-20"])
    # The server checks this often whether today is a reminder date (the command does the same on demand).
    check_minutes: float = Field(60, gt=0, le=24 * 60)
    scheduler_enabled: bool = True
    batch_size: int = Field(5000, ge=100, le=100_000)

    @field_validator("reminder_dates")
    @classmethod
    def _inside_reporting_period(cls, value: list[str]) -> list[str]:
        from datetime import date

        for item in value:
            try:
                day = date.fromisoformat(f"2024-{item}")
            except ValueError:
                raise ValueError(f"reminder date {item!r} is not MM-DD") from None
            if day.month > 6:
                raise ValueError(f"reminder date {item} is outside 1 January – 30 June")
        return sorted(set(value))
class StatisticsSettings(_Section):
    """Figures from the records (SPEC "Statistics") and the Friday weekly report (seed 001)."""

    # Time one electronic signature takes (seed 000: 4,967 signatures saved ≈ 255 hours → about 3 minutes).
    minutes_per_signature: float = Field(3.0, gt=0, le=120)
    weekly_report_enabled: bool = True
    weekly_report_weekday: int = Field(4, ge=0, le=6)  # 0 Monday … 4 Friday
    weekly_report_hour: int = Field(11, ge=0, le=23)  # local time; seed 001: before the Friday morning closes
    weekly_report_poll_seconds: float = Field(60, gt=0, le=3600)
    # Authority code → the addresses its weekly report is e-mailed to (through the outbox); none: listed only.
    weekly_report_recipients: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("weekly_report_recipients")
    @classmethod
    def _recipients(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for code, addresses in value.items():
            if not (len(code) == 6 and code.isdigit()):
                raise ValueError(f"登记机关代码 {code!r} 应为6位数字")
            for address in addresses:
                if "@" not in address.strip("@") or any(char.isspace() for char in address):
                    raise ValueError(f"{code} 的收件地址 {address!r} 不是电子邮件地址")
        return value


class CryptoSettings(_Section):
    """Personal data at rest (server/crypto.py): AES-256-GCM under the current data key; old keys stay listed until
    `python -m server rotate-keys` has re-encrypted every value. Empty in development: keys derived from secret_key."""

    current_key_id: str = ""
    # key id → base64 of 32 random bytes (e.g. `python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"`)
    keys: dict[str, str] = Field(default_factory=dict)
    # The HMAC-SHA256 key of the blind indexes (lookups, uniqueness); it never rotates (base64 of 32 bytes).
    index_key: str = ""
    rotate_batch_size: int = Field(1000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _keys_usable(self) -> "CryptoSettings":
        import base64
        import re

        for key_id, encoded in {**self.keys, **({"index_key": self.index_key} if self.index_key else {})}.items():
            if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", key_id):
                raise ValueError(f"key id {key_id!r}: 1–16 letters, digits, _ or -")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except ValueError:
                raw = b""
            if len(raw) != 32:
                raise ValueError(f"key {key_id!r} must be base64 of 32 bytes")
        if self.keys and self.current_key_id not in self.keys:
            raise ValueError("current_key_id must name one of keys")
        return self


class Settings(_Section):
    # production unless said otherwise: server/safety.py refuses stand-ins and unsafe defaults there.
    mode: Literal["development", "production"] = "production"
    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    wechat: WeChatSettings = Field(default_factory=WeChatSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    faceid: FaceIdSettings = Field(default_factory=FaceIdSettings)
    uploads: UploadSettings = Field(default_factory=UploadSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    signing: SigningSettings = Field(default_factory=SigningSettings)
    enterprise_accounts: EnterpriseAccountsSettings = Field(default_factory=EnterpriseAccountsSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    names: NamesSettings = Field(default_factory=NamesSettings)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    appointments: AppointmentsSettings = Field(default_factory=AppointmentsSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    guides: GuidesSettings = Field(default_factory=GuidesSettings)
    documents: DocumentsSettings = Field(default_factory=DocumentsSettings)
    notary: NotarySettings = Field(default_factory=NotarySettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)
    annual_reports: AnnualReportsSettings = Field(default_factory=AnnualReportsSettings)
    statistics: StatisticsSettings = Field(default_factory=StatisticsSettings)
    public_base_url: str = ""
    home_province: str = Field("45", pattern=r"^\d{2}$")
    qrcode_dir: str = "qrcodes"
    secret_key: str = Field(DEFAULT_SECRET_KEY, min_length=8)
    crypto: CryptoSettings = Field(default_factory=CryptoSettings)

    @property
    def base_url(self) -> str:
        """Where phones reach this server: public_base_url, or the local address in development."""
        if self.public_base_url:
            return self.public_base_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"

    @property
    def notary_url(self) -> str:
        if self.notary.url:
            return self.notary.url.rstrip("/")
        return f"http://127.0.0.1:{self.server.port}/_mock/notary/evidence"

    @property
    def wechat_api_base_url(self) -> str:
        if self.wechat.api_base_url:
            return self.wechat.api_base_url.rstrip("/")
        return f"http://127.0.0.1:{self.server.port}/_mock/wx"


def _env_value(value: str) -> Any:
    """A list or a mapping is written as JSON (YCT_SERVER__TRUSTED_PROXIES='["10.0.0.0/8"]'); anything else stays
    text, for the settings' own validation."""
    if value.lstrip().startswith(("[", "{")):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        if isinstance(parsed, (list, dict)):
            return parsed
    return value


def _env_overrides(environ: dict[str, str]) -> dict[str, Any]:
    """YCT_SERVER__PORT=9000 → {"server": {"port": "9000"}}; YCT_HOME_PROVINCE=44 → {"home_province": "44"};
    YCT_SIGNING__REMINDER_HOURS='[24, 2]' → {"signing": {"reminder_hours": [24, 2]}}."""
    overrides: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "YCT_CONFIG":
            continue
        path = name[len(ENV_PREFIX):].lower().split("__")
        node = overrides
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _env_value(value)
    return overrides


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(path: str | Path | None = None, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    config_path = Path(path or environ.get("YCT_CONFIG") or DEFAULT_CONFIG_FILE)
    raw: dict[str, Any] = {}
    if config_path.exists():
        try:
            raw = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config {config_path}: not valid YAML ({exc.__class__.__name__})") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config {config_path}: the top level must be a mapping")
    elif path or environ.get("YCT_CONFIG"):
        raise ConfigError(f"config {config_path}: file not found")
    data = _merge(_merge(raw, _env_overrides(environ)), overrides)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"config key {key!r}: {first['msg']} (got {first.get('input')!r})") from None
    if settings.server.workers > 1 and settings.cache.url.startswith("memory://"):
        # Each worker keeps sessions, pages and lists in memory and forgets them when another announces a change,
        # through the cache's pub/sub: an in-process cache carries nothing between processes.
        raise ConfigError("config key 'cache.url': several workers (server.workers) need a shared cache, "
                          "redis://host:port/db")
    refusal = production_refusal(settings)
    if refusal:
        raise ConfigError(refusal)
    return settings
