"""What kind of failure an exception of a send attempt is (models/failures.py words it)."""

import smtplib
import ssl

from models.communication import Communication
from models.failures import Failure, FailureKind, names_fact, reply_fact
from models.storage import FileStore
from workers.errors import DeliveryError, PermanentDeliveryError

# Enhanced status 5.3.4 "message too big for system" (RFC 3463); 552 is its basic code.
TOO_LARGE_STATUS = "5.3.4"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the ones it was raised from (smtp.py wraps what smtplib raised)."""
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _server_replies(exc: DeliveryError) -> list[str]:
    """What the server answered, each different reply once, in the order it said them."""
    return list(dict.fromkeys(reply.line for reply in exc.replies.values()))


def _connection_failure(exc: DeliveryError, server: str) -> Failure:
    """No reply to quote: why the conversation never got (or stopped getting) an answer."""
    chain = _chain(exc)
    facts = {"server": server}
    if any(isinstance(e, smtplib.SMTPAuthenticationError) for e in chain):
        return Failure(FailureKind.AUTH_FAILED, facts)
    if any(
        isinstance(e, ssl.SSLError | ssl.CertificateError)
        or (isinstance(e, smtplib.SMTPNotSupportedError) and "STARTTLS" in str(e))
        for e in chain
    ):
        return Failure(FailureKind.TLS_FAILED, facts)
    if any(isinstance(e, TimeoutError) for e in chain):
        return Failure(FailureKind.TIMEOUT, facts)
    detail = str(exc)
    if detail[:3].isdigit():  # a reply ended the conversation (421: the server is closing)
        kind = FailureKind.SERVER_REFUSED if detail[0] == "5" else FailureKind.SERVER_DEFERRED
        return Failure(kind, {"reply": reply_fact(detail), **facts})
    if "handed over" in detail:
        return Failure(FailureKind.CONNECTION_LOST, facts)
    return Failure(FailureKind.UNREACHABLE, facts)


def delivery_failure(exc: DeliveryError, server: str) -> Failure:
    """A failure the mail server's side reported: its reply when it gave one."""
    replies = _server_replies(exc)
    if not replies:
        return _connection_failure(exc, server)
    said = reply_fact("; ".join(replies))
    if any(line.startswith("552") or TOO_LARGE_STATUS in line for line in replies):
        return Failure(FailureKind.TOO_LARGE, {"reply": said, "server": server})
    if isinstance(exc, PermanentDeliveryError):
        return Failure(FailureKind.SERVER_REFUSED, {"reply": said, "server": server})
    return Failure(FailureKind.SERVER_DEFERRED, {"reply": said, "server": server})


def own_failure(exc: Exception, email: Communication, store: FileStore) -> Failure:
    """A fault of ours (nothing reached a mail server): a file not in storage, or else an
    unexpected error whose detail only operators read."""
    if isinstance(exc, OSError):
        missing = [a.filename for a in email.attachments if not store.path(a.sha256).is_file()]
        if missing:
            return Failure(FailureKind.ATTACHMENT_MISSING, {"files": names_fact(missing)})
    return Failure(FailureKind.INTERNAL)


def deferred_recipients(addresses: list[str], replies: list[str]) -> Failure:
    """Some recipients have the email; the server said 'not now' for these."""
    return Failure(
        FailureKind.RECIPIENTS_DEFERRED,
        {"recipients": names_fact(addresses), "reply": reply_fact("; ".join(replies))},
    )
