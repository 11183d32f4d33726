"""Delivering a message over SMTP_URL: plain, STARTTLS or SMTPS, with or without AUTH."""

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from workers.errors import PermanentDeliveryError, TransientDeliveryError


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


def _connect(server: SmtpServer) -> smtplib.SMTP:
    context = ssl.create_default_context()
    if server.security == "ssl":
        client = smtplib.SMTP_SSL(server.host, server.port, timeout=server.timeout, context=context)
    else:
        client = smtplib.SMTP(server.host, server.port, timeout=server.timeout)
        if server.security == "starttls":
            client.starttls(context=context)
    if server.username:
        client.login(server.username, server.password or "")
    return client


def _classify(code: int, detail: str) -> Exception:
    error_class = PermanentDeliveryError if 500 <= code < 600 else TransientDeliveryError
    return error_class(f"{code} {detail}")


def deliver(
    server: SmtpServer, envelope_from: str, recipients: list[str], message: bytes
) -> dict[str, tuple[int, str]]:
    """Send one message; return the recipients the server refused, {address: (code, text)}.

    Raises TransientDeliveryError for trouble worth retrying and PermanentDeliveryError when
    the server refused the message for good.
    """
    try:
        client = _connect(server)
        try:
            refused = client.sendmail(envelope_from, recipients, message)
        finally:
            try:
                client.quit()
            except smtplib.SMTPException:
                client.close()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {_text(text)}" for rcpt, (code, text) in exc.recipients.items()
        )
        if all(500 <= code < 600 for code in codes):
            raise PermanentDeliveryError(detail) from exc
        raise TransientDeliveryError(detail) from exc
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        raise _classify(exc.smtp_code, _text(exc.smtp_error)) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentDeliveryError(f"authentication failed: {exc.smtp_code}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientDeliveryError(f"{type(exc).__name__}: {exc}") from exc
    return {rcpt: (code, _text(text)) for rcpt, (code, text) in refused.items()}


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
