"""A stand-in SMTP server (aiosmtpd) for development and tests: it accepts every message and keeps it readable.

It speaks real SMTP on a real socket, so the server's SMTP client (aiosmtplib) is exercised exactly as against a
mail relay. Messages are kept once per Message-ID, with a count of deliveries, so a double send cannot hide.
"""
from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from sanic import Blueprint, json


@dataclass
class ReceivedMail:
    message_id: str
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    text: str
    deliveries: int = 1


@dataclass
class MailState:
    messages: list[ReceivedMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def receive(self, mail_from: str, rcpt_tos: list[str], content: bytes) -> None:
        parsed = message_from_bytes(content, policy=policy.default)
        message_id = str(parsed.get("Message-ID", ""))
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self.lock:
            for known in self.messages:
                if known.message_id and known.message_id == message_id:
                    known.deliveries += 1
                    return
            self.messages.append(ReceivedMail(message_id, mail_from, list(rcpt_tos), str(parsed["Subject"]), text))

    def to(self, address: str) -> list[ReceivedMail]:
        with self.lock:
            return [mail for mail in self.messages if address in mail.rcpt_tos]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


class _Handler:
    def __init__(self, state: MailState):
        self.state = state

    async def handle_DATA(self, server, session, envelope):
        self.state.receive(envelope.mail_from, envelope.rcpt_tos, envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MailServer:
    """The SMTP stand-in on 127.0.0.1 and a free port, in its own thread (aiosmtpd's Controller)."""

    def __init__(self, state: MailState, host: str = "127.0.0.1", port: int = 0):
        self.state = state
        self.host = host
        self.port = port or _free_port(host)
        self._controller = Controller(_Handler(state), hostname=host, port=self.port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


def create_mail_blueprint(state: MailState) -> Blueprint:
    """GET /_mock/mail?to=ADDRESS: what the stand-in received (development only)."""
    bp = Blueprint("mailmock", url_prefix="/_mock/mail")

    @bp.get("/")
    async def received(request):
        address = request.args.get("to")
        with state.lock:
            mails = [mail for mail in state.messages if address is None or address in mail.rcpt_tos]
            return json([{"message_id": m.message_id, "from": m.mail_from, "to": m.rcpt_tos, "subject": m.subject,
                          "text": m.text, "deliveries": m.deliveries} for m in mails], ensure_ascii=False)

    return bp
