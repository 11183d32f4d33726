"""One delivery attempt of a rendered email, and the backoff between attempts."""

from email import policy

from models.communication import Communication
from models.reply_token import reply_address
from models.storage import FileStore
from workers.mime import build_message
from workers.smtp import deliver, parse_smtp_url


def backoff_ms(attempts: int, minimum: int, maximum: int) -> int:
    """Exponential backoff: minimum, 2x, 4x … after each failed attempt, capped at maximum."""
    return min(maximum, minimum * 2 ** max(attempts - 1, 0))


def send_now(
    email: Communication,
    recipients: list[str],
    smtp_url: str,
    reply_domain: str,
    store: FileStore,
    secret_key: str = "",
) -> tuple[dict[str, tuple[int, str]], str]:
    """Send the email to `recipients` (Bcc only ever in the envelope).

    Returns the refusals and the header block as sent. The envelope sender is the email's own
    reply address, so bounces come back to it.
    """
    message = build_message(email, reply_domain, store, secret_key)
    headers = "".join(f"{name}: {value}\n" for name, value in message.items())
    return deliver(
        parse_smtp_url(smtp_url),
        envelope_from=reply_address(email.reply_token, reply_domain),
        recipients=recipients,
        # The SMTP policy writes CRLF line ends, which servers require.
        message=message.as_bytes(policy=policy.SMTP),
    ), headers
