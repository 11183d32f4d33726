"""Delivering a message over SMTP_URL: plain, STARTTLS or SMTPS, with or without AUTH.

We run the transaction ourselves (MAIL, one RCPT per recipient, DATA; RFC 5321 section 3.3)
rather than smtplib's sendmail, so that we keep what the server answered each recipient and
the message, with the time, as the record of delivery.

Each thread keeps its connection open between messages (a new connection per message costs
more than the message on a fast server). Reuse never risks a message: a connection that
turns out dead before the message was handed over (the server timed it out, restarted, or
said 421) is replaced and the transaction run again from MAIL, which is safe because a
server takes responsibility for a message only with its reply to the final "." of DATA
(RFC 5321 section 4.1.1.4). Trouble after the message was handed over is reported as
transient, as it would be on a fresh connection.
"""

import re
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, unquote, urlsplit

from models.base import utcnow
from workers.errors import PermanentDeliveryError, TransientDeliveryError

# A connection idle this long is checked with NOOP before it carries a message.
IDLE_CHECK_SECONDS = 2.0
# One idle longer than this is closed rather than checked: servers drop idle clients after a
# while (RFC 5321 section 4.5.3.2.7 suggests five minutes; busy servers cut it short).
MAX_IDLE_SECONDS = 60.0
# Servers limit the messages of one connection (Exchange's receive connectors say 20 by
# default and answer 421 after); we reconnect on 421 anyway, and start afresh after this many.
MAX_MESSAGES_PER_CONNECTION = 100


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # "plain", "starttls" or "ssl"
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://user:pass@host:587?starttls=1`, `smtps://host:465`, `smtp://127.0.0.1:1025`."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(
            f"SMTP_URL must look like smtp://host:port or smtps://host:port, not {url!r}"
        )
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
    security = "ssl" if parts.scheme == "smtps" else "starttls" if starttls else "plain"
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if security == "ssl" else 25),
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=float(query.get("timeout", ["30"])[0]),
    )


@dataclass(frozen=True)
class ServerReply:
    """One reply of the server: its code, the reply as it said it, and when we got it."""

    code: int
    line: str  # "250 2.0.0 Ok: queued as 4Fx1"; a multi-line reply keeps each line
    at: datetime

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 400


@dataclass(frozen=True)
class Delivery:
    """What the server said in one transaction: to each recipient (RCPT), and to the message
    (DATA) when at least one recipient was accepted."""

    recipients: dict[str, ServerReply]
    data: ServerReply
    queue_id: str | None

    @property
    def accepted(self) -> list[str]:
        return [rcpt for rcpt, reply in self.recipients.items() if reply.accepted]

    @property
    def refused(self) -> dict[str, ServerReply]:
        return {rcpt: reply for rcpt, reply in self.recipients.items() if not reply.accepted}


# Queue ids as the common servers give them in their reply to DATA: Postfix (and many others)
# "Ok: queued as 4Fx1", Exim "OK id=1tXyZa-000ABC-De", Sendmail "2.0.0 4B1XyZ123 Message
# accepted for delivery".
_QUEUE_ID = [
    re.compile(r"queued as ([\w.\-@<>]+)", re.IGNORECASE),
    re.compile(r"\bid=([\w.\-@<>]+)", re.IGNORECASE),
    re.compile(r"^\d\.\d\.\d+ ([\w.\-]+) Message accepted", re.IGNORECASE),
]


def queue_id(reply_text: str) -> str | None:
    """The server's queue id in its reply to DATA (without the code), if it gave one."""
    for pattern in _QUEUE_ID:
        if match := pattern.search(reply_text):
            return match.group(1)[:100]
    return None


def _reply(code: int, text: bytes | str) -> ServerReply:
    lines = _text(text).split("\n")
    return ServerReply(code, "\n".join(f"{code} {line}".rstrip() for line in lines), utcnow())


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


@dataclass
class _Connection:
    server: SmtpServer
    client: smtplib.SMTP
    last_used: float = field(default_factory=time.monotonic)
    messages: int = 0

    def close(self) -> None:
        try:
            self.client.quit()
        except (smtplib.SMTPException, OSError):
            self.client.close()


class _Stale(Exception):
    """The connection failed before the message was handed over: nothing was delivered."""


_local = threading.local()


def _open(server: SmtpServer) -> _Connection:
    context = ssl.create_default_context()
    if server.security == "ssl":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        if server.security == "starttls":
            client.starttls(context=context)
    try:
        if server.username:
            client.login(server.username, server.password or "")
        client.ehlo_or_helo_if_needed()
    except BaseException:
        client.close()
        raise
    return _Connection(server, client)


def _healthy(connection: _Connection) -> bool:
    idle = time.monotonic() - connection.last_used
    if idle > MAX_IDLE_SECONDS or connection.messages >= MAX_MESSAGES_PER_CONNECTION:
        return False
    if idle <= IDLE_CHECK_SECONDS:
        return True
    try:
        return connection.client.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _checkout(server: SmtpServer) -> tuple[_Connection, bool]:
    """This thread's connection to `server` if it is healthy, else a new one; and whether it
    was reused."""
    connection: _Connection | None = getattr(_local, "connection", None)
    _local.connection = None
    if connection is not None:
        if connection.server == server and _healthy(connection):
            return connection, True
        connection.close()
    return _open(server), False


def close_connection() -> None:
    """Close this thread's connection (QUIT), e.g. when a worker thread stops."""
    connection = getattr(_local, "connection", None)
    _local.connection = None
    if connection is not None:
        connection.close()


def _quoted(message: bytes) -> bytes:
    """The message as DATA carries it: a leading "." doubled (RFC 5321 section 4.5.2), ending
    in CRLF, then the lone "." that ends it."""
    body = re.sub(rb"(?m)^\.", b"..", message)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


def _command(client: smtplib.SMTP, run) -> tuple[int, bytes]:
    """One command before the message is handed over; a dead connection or a 421 (the
    server is closing it) means nothing was delivered."""
    try:
        code, text = run()
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise _Stale(f"{type(exc).__name__}: {exc}") from exc
    if code == 421:
        raise _Stale(f"421 {_text(text)}")
    return code, text


def _reset(connection: _Connection) -> bool:
    """RSET after a refusal, so the connection can carry the next message."""
    try:
        return connection.client.rset()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _transaction(
    connection: _Connection, envelope_from: str, recipients: list[str], message: bytes
) -> tuple[Delivery, bool]:
    """MAIL, RCPT for each recipient, DATA. Returns the delivery and whether the connection
    can carry another message; raises _Stale, or the delivery errors."""
    client = connection.client
    options = [f"SIZE={len(message)}"] if client.has_extn("size") else []
    code, text = _command(client, lambda: client.mail(envelope_from, options))
    if code != 250:
        sender = _reply(code, text)
        error = PermanentDeliveryError if 500 <= code < 600 else TransientDeliveryError
        raise error(sender.line, {rcpt: sender for rcpt in recipients}, _reset(connection))
    replies = {}
    for rcpt in recipients:
        code, text = _command(client, lambda rcpt=rcpt: client.rcpt(rcpt))
        replies[rcpt] = _reply(code, text)
    if not any(reply.accepted for reply in replies.values()):
        detail = "; ".join(f"{rcpt}: {reply.line}" for rcpt, reply in replies.items())
        permanent = all(500 <= reply.code < 600 for reply in replies.values())
        error = PermanentDeliveryError if permanent else TransientDeliveryError
        raise error(detail, replies, _reset(connection))
    code, text = _command(client, lambda: client.docmd("DATA"))
    if code != 354:
        data = _reply(code, text)
        error = PermanentDeliveryError if 500 <= code < 600 else TransientDeliveryError
        raise error(data.line, dict.fromkeys(replies, data), _reset(connection))
    # From here the server may take the message: any trouble is not retried on this call.
    try:
        client.send(_quoted(message))
        code, text = client.getreply()
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientDeliveryError(
            f"{type(exc).__name__} after the message was handed over: {exc}", {}, False
        ) from exc
    data = _reply(code, text)
    if code != 250:
        error = PermanentDeliveryError if 500 <= code < 600 else TransientDeliveryError
        accepted = {rcpt: data for rcpt, reply in replies.items() if reply.accepted}
        raise error(data.line, accepted, code != 421 and _reset(connection))
    return Delivery(replies, data, queue_id(_text(text))), True


def deliver(
    server: SmtpServer, envelope_from: str, recipients: list[str], message: bytes
) -> Delivery:
    """Send one message (CRLF line ends) to `recipients`; return what the server said.

    A recipient refused while others were accepted is in `Delivery.refused` (4xx: try them
    again later; 5xx: refused for good). Raises TransientDeliveryError for trouble worth
    retrying and PermanentDeliveryError when the server refused the message for good; both
    carry the replies per recipient when the server gave them.
    """
    try:
        connection, reused = _checkout(server)
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentDeliveryError(f"authentication failed: {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientDeliveryError(f"{type(exc).__name__}: {exc}") from exc
    for attempt in ("reused", "fresh"):
        try:
            delivery, keep = _transaction(connection, envelope_from, recipients, message)
        except _Stale as exc:
            connection.client.close()
            if not reused or attempt == "fresh":
                raise TransientDeliveryError(str(exc)) from exc
            # The kept connection had gone dead before the message left: a new one, once.
            try:
                connection = _open(server)
            except (smtplib.SMTPException, OSError) as open_exc:
                raise TransientDeliveryError(f"{type(open_exc).__name__}: {open_exc}") from exc
            continue
        except (TransientDeliveryError, PermanentDeliveryError) as exc:
            _keep(connection, exc.reusable)
            raise
        except BaseException:
            connection.client.close()
            raise
        _keep(connection, keep)
        return delivery
    raise AssertionError("unreachable")  # the loop returns or raises


def _keep(connection: _Connection, reusable: bool) -> None:
    if not reusable:
        connection.close()
        return
    connection.messages += 1
    connection.last_used = time.monotonic()
    _local.connection = connection
