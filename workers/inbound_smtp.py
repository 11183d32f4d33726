"""The inbound SMTP listener for replies (`claimpost inbound-smtp`, Procfile `inbound`).

Refuses at RCPT (550) any address that is not one of our signed reply addresses (and keeps a
trace of it for the operators' Inbound view), refuses
over-size mail (552, by aiosmtpd's size limit), and answers 250 only once the raw message is
stored and committed.
"""

import asyncio
import logging

from aiosmtpd.controller import Controller
from flask import Flask

from models.client_link import signing_keys
from web.extensions import db
from workers.intake import record_refusal, take_in
from workers.replies import token_of

log = logging.getLogger(__name__)


def inbound_size_limit(max_attachment_bytes: int) -> int:
    """Attachments travel base64-encoded (4/3 larger), plus room for the text and headers."""
    return max_attachment_bytes * 4 // 3 + 2**20


class ReplyHandler:
    """aiosmtpd handler: accept mail for our reply addresses and store it."""

    def __init__(self, app: Flask):
        self.app = app

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        config = self.app.config
        if token_of(address, config["REPLY_DOMAIN"], signing_keys(config)) is None:
            refusal = "550 5.1.1 No such reply address"
            await asyncio.get_running_loop().run_in_executor(
                None, self._record_refusal, envelope.mail_from or "", address, refusal
            )
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    def _record_refusal(self, mail_from: str, address: str, refusal: str) -> None:
        with self.app.app_context():
            try:
                record_refusal("smtp", mail_from, address, f"{refusal}: {address}")
            except Exception:  # the refusal stands whether or not its trace could be kept
                log.exception("could not record a refused recipient")
            finally:
                db.session.remove()

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, self._store, raw, envelope.mail_from or "", list(envelope.rcpt_tos)
            )
        except Exception:
            log.exception("could not store an inbound message")
            return "451 4.3.0 Could not store the message; please try again later"
        return "250 2.0.0 Stored"

    def _store(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> None:
        with self.app.app_context():
            try:
                take_in(raw, "smtp", mail_from, rcpt_tos)
            finally:
                db.session.remove()


def start_inbound_smtp(app: Flask, host: str, port: int) -> Controller:
    """Start the listener on a thread of this process; stop it with `.stop()`."""
    controller = Controller(
        ReplyHandler(app),
        hostname=host,
        port=port,
        data_size_limit=inbound_size_limit(app.config["MAX_ATTACHMENT_BYTES"]),
    )
    controller.start()
    return controller
