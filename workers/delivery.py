"""One delivery attempt of a rendered email, and the backoff between attempts."""

import hashlib
from email import policy

from models.communication import Communication, EmailKind
from models.reply_token import reply_address
from models.storage import FileStore
from workers.mime import build_message
from workers.smtp import Delivery, deliver, parse_smtp_url


def backoff_ms(attempts: int, minimum: int, maximum: int) -> int:
    """Exponential backoff: minimum, 2x, 4x … after each failed attempt, capped at maximum."""
    return min(maximum, minimum * 2 ** max(attempts - 1, 0))


def message_as_sent(
    email: Communication, reply_domain: str, store: FileStore, secret_key: str
) -> dict[str, str]:
    """Build the email's message once, store its exact bytes and return the columns that name
    them (`raw_sha256`) and show its headers (`headers_text`). Every attempt sends these bytes.
    A code email is the exception: its code is never stored, so it is built again for each
    attempt (the same code: it comes from the key and the request's nonce)."""
    message = build_message(email, reply_domain, store, secret_key)
    headers = "".join(f"{name}: {value}\n" for name, value in message.items())
    if email.kind == EmailKind.CODE:
        return {"headers_text": headers}
    # The SMTP policy writes CRLF line ends, which servers require.
    raw = message.as_bytes(policy=policy.SMTP)
    return {"raw_sha256": store.put(raw), "headers_text": headers}


class StoredMessageChanged(Exception):
    """The stored bytes of an email no longer match their hash: never send something else."""


def stored_message(email: Communication, store: FileStore) -> bytes:
    raw = store.read(email.raw_sha256)
    if hashlib.sha256(raw).hexdigest() != email.raw_sha256:
        raise StoredMessageChanged(f"the stored message {email.raw_sha256} does not match it")
    return raw


def message_bytes(
    email: Communication, reply_domain: str, store: FileStore, secret_key: str
) -> bytes:
    """The bytes an attempt sends: the stored ones (a code email: built again)."""
    if email.kind == EmailKind.CODE:
        message = build_message(email, reply_domain, store, secret_key)
        return message.as_bytes(policy=policy.SMTP)
    return stored_message(email, store)


def send_now(
    email: Communication, raw: bytes, recipients: list[str], smtp_url: str, reply_domain: str
) -> Delivery:
    """Send the stored bytes to `recipients` (Bcc only ever in the envelope). The envelope
    sender is the email's own reply address, so bounces come back to it."""
    return deliver(
        parse_smtp_url(smtp_url),
        envelope_from=reply_address(email.reply_token, reply_domain),
        recipients=recipients,
        message=raw,
    )
