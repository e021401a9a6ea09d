"""E-mail over SMTP (aiosmtplib): 事后确认 to parties who gave an address (seed 004 "短信或者邮件").

The outbox row's id goes out as the Message-ID, so a receiving system can tell a resend after a crash from a
new message.
"""
from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib

from server.config import Settings
from server.sms import PermanentFailure, TemporaryFailure


class MailSender:
    def __init__(self, settings: Settings, host: str, port: int):
        self.settings = settings.email
        self.host = host
        self.port = port

    async def send(self, message_id: str, to: str, subject: str, text: str) -> str:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = to
        message["Subject"] = subject
        message["Message-ID"] = f"<{message_id}@yct>"
        message.set_content(text)
        cfg = self.settings
        try:
            await aiosmtplib.send(message, hostname=self.host, port=self.port, username=cfg.username or None,
                                  password=cfg.password or None, use_tls=cfg.use_tls, start_tls=cfg.start_tls,
                                  timeout=cfg.timeout_seconds)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure("smtp_refused", f"收件地址被拒收：{exc}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure("smtp", f"{exc.__class__.__name__}: {exc}") from None
        return message["Message-ID"]
