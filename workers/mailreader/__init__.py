"""Reading inbound mail: one entry point, `parse_mail(raw) -> ParsedMail`.

Pure: raw bytes in, a ParsedMail out; no database, Flask or Dramatiq. Parsing never raises:
whatever was wrong with a message (bad charset, broken base64, missing headers...) is listed in
ParsedMail.problems and everything readable is still returned, so no reply is ever lost.

The modules, each with one job: `headers` (fields and addresses), `mime` (parts, decoding),
`html` (HTML to text), `markers` (what a line of a reply is) and `quotes` (the answer without
quotes, signatures and forwarded mail), `autoreply` and `bounces` (what is not a person's
reply); `attempt` is the never-raise policy they share.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.parser import BytesParser
from itertools import islice

from models.base import storable
from workers.mailreader.attempt import attempt
from workers.mailreader.autoreply import is_auto_reply
from workers.mailreader.bounces import (
    BounceReport,
    is_delivery_report,
    is_plain_bounce,
    returned_ids,
    status_reports,
    text_reports,
)
from workers.mailreader.headers import (
    READING,
    HeaderFields,
    content_key,
    from_doubts,
    header_fields,
    unique,
)
from workers.mailreader.html import html_text
from workers.mailreader.mime import (
    InboundAttachment,
    Leaf,
    attachments,
    body_parts,
    defects,
    leaves,
    part_text,
)
from workers.mailreader.quotes import Answer, quotes_mail, read_answer

__all__ = ["BounceReport", "InboundAttachment", "ParsedMail", "content_key", "parse_mail"]

REPLY, AUTO_REPLY, BOUNCE = "reply", "auto_reply", "bounce"

# Real replies have a handful of parts; a message with thousands is an attack on the worker.
MAX_PARTS = 500
# ...and a few multiparts, seldom nested more than 3 deep: the library parses nesting by
# recursion, and about 1,000 levels exhaust Python's stack (the whole message unread).
MAX_MULTIPARTS = 50


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    from_address: str | None
    from_name: str
    # Why the From cannot be trusted (then the reply is never the client's word), or [].
    from_doubts: list[str]
    recipient_addresses: list[str]
    subject: str
    sent_at: datetime | None
    kind: str
    full_text: str
    text: str
    own_text: str
    forwarded: str
    attachments: list[InboundAttachment]
    bounces: list[BounceReport]
    problems: list[str]


def parse_mail(raw: bytes) -> ParsedMail:
    """Parse one raw message; never raises (what was wrong is listed in `problems`).

    For a bounce (a DSN), `references` also carries the Message-ID, In-Reply-To and References
    of the returned original message (its message/rfc822 or text/rfc822-headers part), the
    Message-ID last: that is our outbound id, so the bounce matches the email it reports on.
    """
    problems: list[str] = []
    try:
        return _parse(bytes(raw), problems)
    except Exception as exc:  # a parser bug must not lose the mail: keep it, say why it is empty
        problems.append(f"unparseable message: {type(exc).__name__}: {exc}")
        return _unreadable(problems)


def _unreadable(problems: list[str]) -> ParsedMail:
    """An empty reply: stored and shown to an operator with its problems, never matched."""
    return ParsedMail(
        message_id=None,
        in_reply_to=[],
        references=[],
        from_address=None,
        from_name="",
        from_doubts=["unparseable message"],
        recipient_addresses=[],
        subject="",
        sent_at=None,
        kind=REPLY,
        full_text="",
        text="",
        own_text="",
        forwarded="",
        attachments=[],
        bounces=[],
        problems=[storable(problem) for problem in problems],
    )


def _parse(raw: bytes, problems: list[str]) -> ParsedMail:
    if not raw.strip():
        problems.append("empty message")
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    if raw.count(b"\n--") > 2 * MAX_PARTS:
        # Parsing builds every part first, and a message of a hundred thousand parts costs a
        # worker minutes: read only its headers (the raw message is kept whole).
        problems.append(f"more than {MAX_PARTS} MIME parts: only the headers were read")
        raw = head
    elif raw.lower().count(b"boundary=") > MAX_MULTIPARTS:
        problems.append(f"more than {MAX_MULTIPARTS} multiparts: only the headers were read")
        raw = head
    msg = BytesParser(policy=READING).parsebytes(raw)
    headers = attempt(problems, "headers", HeaderFields(), header_fields, msg, problems)
    found: list[Leaf] = attempt(
        problems, "MIME structure", [], lambda: list(islice(leaves(msg), MAX_PARTS + 1))
    )
    if len(found) > MAX_PARTS:
        problems.append(f"more than {MAX_PARTS} MIME parts: only the first {MAX_PARTS} were read")
        found = found[:MAX_PARTS]
    full_text, reading = attempt(problems, "body", ("", ""), _body, found, problems)
    files = attempt(problems, "attachments", [], attachments, found, problems)
    unread = Answer(reading, reading, "")
    answer = attempt(problems, "quote stripping", unread, read_answer, reading, headers.subject)
    kind, bounces = attempt(
        problems, "kind", (REPLY, []), _kind, msg, headers, found, full_text, reading, answer
    )
    references = headers.references
    if kind == BOUNCE:
        returned = attempt(problems, "returned message", [], returned_ids, found, full_text)
        references = unique(references + returned)
    doubts = attempt(problems, "From trust", ["unreadable"], from_doubts, msg, head)
    problems.extend(f"From not trusted: {doubt}" for doubt in doubts)
    # Last: decoding the parts above is what records their defects (broken base64...).
    problems.extend(attempt(problems, "defects", [], defects, msg))
    return ParsedMail(
        message_id=headers.message_id,
        in_reply_to=headers.in_reply_to,
        references=references,
        from_address=storable(headers.from_address) or None,
        from_name=storable(headers.from_name),
        from_doubts=doubts,
        recipient_addresses=[storable(a) for a in headers.recipients],
        subject=storable(headers.subject),
        sent_at=headers.sent_at,
        kind=kind,
        full_text=storable(full_text),
        text=storable(answer.text),
        own_text=storable(answer.own_text),
        forwarded=storable(answer.forwarded),
        attachments=files,
        bounces=bounces,
        problems=[storable(problem) for problem in problems],
    )


def _kind(
    msg: Message,
    headers: HeaderFields,
    found: list[Leaf],
    full_text: str,
    reading: str,
    answer: Answer,
) -> tuple[str, list[BounceReport]]:
    """(bounce, its reports), (auto_reply, []) or (reply, []): a bounce beats an auto-reply
    (a DSN may say Auto-Submitted too), and whatever is neither is a person's reply."""
    if is_delivery_report(msg, found):
        return BOUNCE, status_reports(found)
    if is_plain_bounce(msg, headers.from_address, headers.from_name, headers.subject):
        return BOUNCE, text_reports(msg, headers.subject, full_text)
    quoting = quotes_mail(reading)
    if is_auto_reply(msg, headers.from_address, headers.subject, answer.text, quoting):
        return AUTO_REPLY, []
    return REPLY, []


def _body(found: list[Leaf], problems: list[str]) -> tuple[str, str]:
    """(whole body as text, the same with its quoted mail marked): text/plain first, else HTML
    (some clients send an empty text/plain beside the real HTML)."""
    plain, html = body_parts(found)
    text = "\n".join(part_text(p, problems) for p in plain).strip()
    if text or not html:
        return text, text
    return html_text("\n".join(part_text(p, problems) for p in html))
