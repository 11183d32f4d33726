"""Headers and addresses: the top-level fields a reply is matched and verified by.

Every field is read on its own (a nonsense Date must not cost the From that verifies the
sender), encoded-words decoded, raw 8-bit bytes rescued, and each oddity noted as a problem.
"""

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import MessageDefect
from email.message import Message
from email.policy import EmailPolicy
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from functools import lru_cache
from typing import TypeVar

from workers.mailreader.attempt import attempt

T = TypeVar("T")

# The library's structured header parser is quadratic in places (an encoded-word bomb of
# 20,000 words cost 19 s): no real header is this long, so only its first 16 KiB are read.
MAX_HEADER_CHARS = 16 * 1024


class BoundedPolicy(EmailPolicy):
    """policy.default, but a header is parsed from its first MAX_HEADER_CHARS characters only
    (every access through the message, its parts' Content-Type included), and each distinct
    header once: the library parses a field again at every access, and reading one reply
    asks a part's Content-Type a dozen times (a fifth of the time spent reading it)."""

    def header_fetch_parse(self, name, value):
        value = value[:MAX_HEADER_CHARS]
        if len(value) > MAX_REMEMBERED_CHARS:
            return super().header_fetch_parse(name, value)
        return _parsed_header(self, name, value)


# The parsed header depends on the policy, the field's name and its text only, and the
# library's header objects are immutable strings: one parse can answer every message holding
# the same field. Only short fields are kept (Content-Type and its kin, an address): a parsed
# field keeps a parse tree a few hundred times its length, so 128 of 200 characters stay
# under a few MB.
MAX_REMEMBERED_CHARS = 200


@lru_cache(maxsize=128)
def _parsed_header(reading: EmailPolicy, name: str, value: str):
    return EmailPolicy.header_fetch_parse(reading, name, value)


READING = BoundedPolicy()


@dataclass(frozen=True)
class HeaderFields:
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    from_name: str = ""
    from_address: str | None = None
    recipients: list[str] = field(default_factory=list)
    subject: str = ""
    sent_at: datetime | None = None


def header_fields(msg: Message, problems: list[str]) -> HeaderFields:
    """Everything ParsedMail takes from the top-level header, each field on its own."""

    def field_of(name: str, default: T, fn: Callable[[], T]) -> T:
        return attempt(problems, f"{name} header", default, fn)

    def ids_in(name: str) -> list[str]:
        return field_of(name, [], lambda: msg_ids(" ".join(headers(msg, name, problems))))

    from_name, from_address = field_of("From", ("", None), lambda: _from(msg, problems))
    return HeaderFields(
        message_id=field_of("Message-ID", None, lambda: _message_id(msg, problems)),
        in_reply_to=ids_in("In-Reply-To"),
        references=ids_in("References"),
        from_name=from_name,
        from_address=from_address,
        recipients=field_of("recipient", [], lambda: _recipients(msg, problems)),
        subject=field_of("Subject", "", lambda: header(msg, "Subject", problems) or ""),
        sent_at=field_of("Date", None, lambda: _sent_at(header(msg, "Date", problems), problems)),
    )


def content_key(raw: bytes, message_id: str | None) -> str:
    """The dedupe key: the normalised Message-ID if there is one, else sha256 of the bytes."""
    ids = msg_ids(message_id or "")
    return ids[0] if ids else f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _message_id(msg: Message, problems: list[str]) -> str | None:
    if (raw_id := header(msg, "Message-ID", problems)) is None:
        problems.append("missing Message-ID header")
    elif not (ids := msg_ids(raw_id)):
        problems.append(f"Message-ID header has no msg-id: {raw_id!r}")
    else:
        return ids[0]
    return None


def headers(msg: Message, name: str, problems: list[str]) -> list[str]:
    """Every `name` header as one-line text, encoded-words decoded, raw 8-bit bytes rescued."""
    values = []
    for key, raw in msg.raw_items():
        if key.lower() != name.lower():
            continue
        # Raw 8-bit bytes reach us surrogate-escaped; the header classes would turn them into
        # U+FFFD, so decode them ourselves first (UTF-8, else Latin-1).
        text = rescue_8bit(raw)
        if text != raw:
            problems.append(f"{name} header: raw 8-bit bytes")
        if len(text) > MAX_HEADER_CHARS:
            problems.append(f"{name} header: over {MAX_HEADER_CHARS:,} characters, the rest unread")
            text = text[:MAX_HEADER_CHARS]
        try:
            parsed = policy.default.header_factory(key, re.sub(r"\r?\n", "", text))
            value = str(parsed)
            if name.lower() in ("from", "to", "cc", "subject"):
                problems.extend(f"{name} header: {defect_text(d)}" for d in parsed.defects)
        except Exception as exc:  # a header the library cannot parse still has its raw text
            problems.append(f"{name} header: unparseable ({type(exc).__name__}), raw text used")
            value = text
        if "\ufffd" in value:
            problems.append(f"{name} header: undecodable characters")
        values.append(" ".join(value.split()))
    return values


def header(msg: Message, name: str, problems: list[str]) -> str | None:
    values = headers(msg, name, problems)
    return values[0] if values else None


def rescue_8bit(text: str) -> str:
    """Undo surrogate escapes of raw header bytes: decode them as UTF-8, else Latin-1."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def from_doubts(msg: Message, raw_head: bytes) -> list[str]:
    """Why the From cannot be trusted to name the sender, or []: a second From (which one
    would count?), NUL in it, or a bare CR in the header, which some programs read as a line
    break and so as the start of a header of the sender's choosing."""
    values = [value for key, value in msg.raw_items() if key.lower() == "from"]
    doubts = ["more than one From header"] if len(values) > 1 else []
    if any("\x00" in value for value in values):
        doubts.append("NUL in the From header")
    if re.search(rb"\r(?!\n)", raw_head):
        doubts.append("bare CR in the header")
    return doubts


def _from(msg: Message, problems: list[str]) -> tuple[str, str | None]:
    """(display name, lower-cased addr-spec) of the first From address."""
    value = header(msg, "From", problems)
    if value is None:
        problems.append("missing From header")
        return "", None
    name, address = parseaddr(value)
    if not name:  # "MAILER-DAEMON@x (Mail Delivery System)": the parsed header drops comments
        name = parseaddr(" ".join(rescue_8bit(_raw(msg, "From")).split()))[0]
    if "@" not in address:
        problems.append(f"From header has no address: {value!r}")
        return name, None
    return name, address.lower()


def _raw(msg: Message, name: str) -> str:
    """The first `name` header exactly as received (folded, encoded-words and all)."""
    return next((value for key, value in msg.raw_items() if key.lower() == name.lower()), "")


def _recipients(msg: Message, problems: list[str]) -> list[str]:
    """Lower-cased addresses of To, Cc, Delivered-To and X-Original-To, in that order, once."""
    values = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To"):
        values.extend(headers(msg, name, problems))
    return addresses_in(values)


def addresses_in(values: list[str]) -> list[str]:
    """The lower-cased addr-specs in address header values, each once, in order."""
    found = [address.strip().lower() for _, address in getaddresses(values)]
    return unique([a for a in found if "@" in a])


_COMMENT = re.compile(r"\([^()]*\)")


def msg_ids(value: str) -> list[str]:
    """The msg-ids in a Message-ID, In-Reply-To or References value, each as <...>, once.

    Split on whitespace and commas (some clients comma-join References); comments such as
    "(Olivia's message of ...)" are dropped; a bare id with an @ gets its angle brackets.
    """
    ids = []
    for token in re.split(r"[\s,]+", _COMMENT.sub(" ", value).replace("><", "> <")):
        bare = re.sub(r"[\x00-\x1f\x7f]", "", token).strip("<>")
        if bare and ("@" in bare or token.startswith("<")):
            ids.append(f"<{bare}>")
    return unique(ids)


def _sent_at(value: str | None, problems: list[str]) -> datetime | None:
    """The Date header as an aware UTC datetime, or None when absent or unparseable."""
    if value is None:
        problems.append("missing Date header")
        return None
    try:
        sent = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        problems.append(f"unparseable Date header: {value!r}")
        return None
    # RFC 5322: "-0000" means UTC with no claim about the sender's zone (parsed as naive).
    return (sent if sent.tzinfo else sent.replace(tzinfo=UTC)).astimezone(UTC)


def first_word(value: str) -> str:
    """'auto-replied; comment' or 'no (x)' -> its first word, lower-cased."""
    words = re.split(r"[\s;(]+", value.strip(), maxsplit=1)
    return words[0].lower() if words else ""


def unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def defect_text(defect: MessageDefect) -> str:
    """'InvalidBase64PaddingDefect' -> 'invalid base64 padding', plus its own detail if any."""
    name = type(defect).__name__.removesuffix("Defect")
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
    detail = str(defect)
    return f"{words} ({detail})" if detail and detail != name else words
