"""The built-in mail catcher: an SMTP server that keeps every message as a file, so that
`make run` works with no mail server and the Mailbox page shows what recipients would get."""

import json
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

from aiosmtpd.controller import Controller


class CatchAll:
    """aiosmtpd handler: store each message as NAME.eml plus NAME.json with its envelope."""

    def __init__(self, mailbox: Path):
        self.mailbox = mailbox
        mailbox.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}"
        (self.mailbox / f"{name}.eml").write_bytes(envelope.original_content or envelope.content)
        (self.mailbox / f"{name}.json").write_text(
            json.dumps(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "received_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
            )
        )
        return "250 Message accepted for delivery"


def start_mail_catcher(mailbox: Path, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    """Start the catcher on a thread of this process; stop it with `.stop()`."""
    controller = Controller(CatchAll(mailbox), hostname=host, port=port)
    controller.start()
    return controller


class CaughtMessage:
    """One caught message, parsed for the Mailbox page."""

    def __init__(self, mailbox: Path, name: str):
        if not name.isdigit():
            raise FileNotFoundError(name)
        self.name = name
        self.raw = (mailbox / f"{name}.eml").read_bytes()
        self.envelope = json.loads((mailbox / f"{name}.json").read_text())
        self.message: EmailMessage = BytesParser(policy=policy.default).parsebytes(self.raw)

    @property
    def received_at(self) -> datetime:
        return datetime.fromisoformat(self.envelope["received_at"].replace("Z", "+00:00"))

    def part(self, subtype: str) -> str | None:
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if body is not None else None

    def attachments(self) -> list[EmailMessage]:
        return list(self.message.iter_attachments())


def caught_messages(mailbox: Path) -> list[CaughtMessage]:
    """Every caught message, newest first."""
    if not mailbox.is_dir():
        return []
    names = sorted((p.stem for p in mailbox.glob("*.json")), reverse=True)
    return [CaughtMessage(mailbox, name) for name in names]


def reply_as_recipient(caught: CaughtMessage, sender: str, body: str) -> EmailMessage:
    """The reply a recipient's mail client would write: to Reply-To, threaded by
    In-Reply-To/References, with the original quoted below the answer."""
    original = caught.message
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = original["Reply-To"] or original["From"]
    subject = str(original["Subject"] or "")
    reply["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    reply["Date"] = format_datetime(datetime.now(UTC))
    reply["Message-ID"] = make_msgid(domain="mailbox.localhost")
    if original["Message-ID"]:
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = original["Message-ID"]
    quoted = "\n".join(f"> {line}" for line in (caught.part("plain") or "").splitlines())
    reply.set_content(f"{body}\n\nOn {original['Date']}, {original['From']} wrote:\n{quoted}\n")
    return reply
