"""Inbound mail, parsed and classified: headers, body text, the reply without its quote, kind.

Pure: raw bytes in, a ParsedMail out; no database, Flask or Dramatiq. Parsing never raises:
whatever was wrong with a message (bad charset, broken base64, missing headers...) is listed in
ParsedMail.problems and everything readable is still returned, so no reply is ever lost.
"""

import base64
import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import InvalidBase64LengthDefect, MessageDefect
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value, getaddresses, parseaddr, parsedate_to_datetime
from html.parser import HTMLParser
from itertools import islice
from typing import TypeVar

from models.base import storable
from models.storage import safe_filename

T = TypeVar("T")

REPLY, AUTO_REPLY, BOUNCE = "reply", "auto_reply", "bounce"

# Real replies have a handful of parts; a message with thousands is an attack on the worker.
MAX_PARTS = 500


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class BounceReport:
    """One failed or delayed recipient of a delivery status notification."""

    recipient: str
    action: str
    status: str
    diagnostic: str


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    from_address: str | None
    from_name: str
    recipient_addresses: list[str]
    subject: str
    sent_at: datetime | None
    kind: str
    full_text: str
    text: str
    attachments: list[InboundAttachment]
    bounces: list[BounceReport]
    problems: list[str]


# ------------------------------------------------------------------------------------ entry points


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
        recipient_addresses=[],
        subject="",
        sent_at=None,
        kind=REPLY,
        full_text="",
        text="",
        attachments=[],
        bounces=[],
        problems=[storable(problem) for problem in problems],
    )


def content_key(raw: bytes, message_id: str | None) -> str:
    """The dedupe key: the normalised Message-ID if there is one, else sha256 of the bytes."""
    ids = _msg_ids(message_id or "")
    return ids[0] if ids else f"sha256:{hashlib.sha256(raw).hexdigest()}"


def _parse(raw: bytes, problems: list[str]) -> ParsedMail:
    if not raw.strip():
        problems.append("empty message")
    if raw.count(b"\n--") > 2 * MAX_PARTS:
        # Parsing builds every part first, and a message of a hundred thousand parts costs a
        # worker minutes: read only its headers (the raw message is kept whole).
        problems.append(f"more than {MAX_PARTS} MIME parts: only the headers were read")
        raw = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    headers = _attempt(problems, "headers", _HeaderFields(), _header_fields, msg, problems)
    bounce = _attempt(problems, "content type", False, _is_delivery_report, msg)
    leaves: list[tuple[Message, bool]] = _attempt(
        problems, "MIME structure", [], lambda: list(islice(_leaves(msg), MAX_PARTS + 1))
    )
    if len(leaves) > MAX_PARTS:
        problems.append(f"more than {MAX_PARTS} MIME parts: only the first {MAX_PARTS} were read")
        leaves = leaves[:MAX_PARTS]
    full_text, reply_text = _attempt(problems, "body", ("", ""), _body, leaves, problems)
    attachments: list[InboundAttachment] = _attempt(
        problems, "attachments", [], _attachments, leaves, problems
    )
    references = headers.references
    bounces: list[BounceReport] = []
    if bounce:
        bounces = _attempt(problems, "delivery report", [], _bounce_reports, msg)
        returned: list[str] = _attempt(problems, "returned message", [], _returned_ids, msg)
        references = _unique(references + returned)
    auto = _attempt(problems, "auto-reply check", False, _is_auto_reply, msg, headers.subject)
    text = _attempt(problems, "quote stripping", reply_text, strip_quotes, reply_text)
    # Last: decoding the parts above is what records their defects (broken base64...).
    problems.extend(_attempt(problems, "defects", [], _defects, msg))
    return ParsedMail(
        message_id=headers.message_id,
        in_reply_to=headers.in_reply_to,
        references=references,
        from_address=storable(headers.from_address) or None,
        from_name=storable(headers.from_name),
        recipient_addresses=[storable(a) for a in headers.recipients],
        subject=storable(headers.subject),
        sent_at=headers.sent_at,
        kind=BOUNCE if bounce else AUTO_REPLY if auto else REPLY,
        full_text=storable(full_text),
        text=storable(text),
        attachments=attachments,
        bounces=bounces,
        problems=[storable(problem) for problem in problems],
    )


def _attempt(problems: list[str], what: str, default: T, fn: Callable[..., T], *args) -> T:
    """fn(*args), or `default` with a problem noted: one bad part must not sink the message."""
    try:
        return fn(*args)
    except Exception as exc:  # parsing never raises; see parse_mail
        problems.append(f"{what}: {type(exc).__name__}: {exc}")
        return default


# --------------------------------------------------------------------------------------- headers


@dataclass(frozen=True)
class _HeaderFields:
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    from_name: str = ""
    from_address: str | None = None
    recipients: list[str] = field(default_factory=list)
    subject: str = ""
    sent_at: datetime | None = None


def _header_fields(msg: Message, problems: list[str]) -> _HeaderFields:
    """Everything ParsedMail takes from the top-level header, each field on its own: a
    nonsense Date must not cost the From that verifies the sender."""

    def field_of(name: str, default: T, fn: Callable[[], T]) -> T:
        return _attempt(problems, f"{name} header", default, fn)

    def ids_in(name: str) -> list[str]:
        return field_of(name, [], lambda: _msg_ids(" ".join(_headers(msg, name, problems))))

    from_name, from_address = field_of("From", ("", None), lambda: _from(msg, problems))
    return _HeaderFields(
        message_id=field_of("Message-ID", None, lambda: _message_id(msg, problems)),
        in_reply_to=ids_in("In-Reply-To"),
        references=ids_in("References"),
        from_name=from_name,
        from_address=from_address,
        recipients=field_of("recipient", [], lambda: _recipients(msg, problems)),
        subject=field_of("Subject", "", lambda: _header(msg, "Subject", problems) or ""),
        sent_at=field_of("Date", None, lambda: _sent_at(_header(msg, "Date", problems), problems)),
    )


def _message_id(msg: Message, problems: list[str]) -> str | None:
    if (raw_id := _header(msg, "Message-ID", problems)) is None:
        problems.append("missing Message-ID header")
    elif not (ids := _msg_ids(raw_id)):
        problems.append(f"Message-ID header has no msg-id: {raw_id!r}")
    else:
        return ids[0]
    return None


def _headers(msg: Message, name: str, problems: list[str]) -> list[str]:
    """Every `name` header as one-line text, encoded-words decoded, raw 8-bit bytes rescued."""
    values = []
    for key, raw in msg.raw_items():
        if key.lower() != name.lower():
            continue
        # Raw 8-bit bytes reach us surrogate-escaped; the header classes would turn them into
        # U+FFFD, so decode them ourselves first (UTF-8, else Latin-1).
        text = _rescue_8bit(raw)
        if text != raw:
            problems.append(f"{name} header: raw 8-bit bytes")
        try:
            header = policy.default.header_factory(key, re.sub(r"\r?\n", "", text))
            value = str(header)
            if name.lower() in ("from", "to", "cc", "subject"):
                problems.extend(f"{name} header: {_defect_text(d)}" for d in header.defects)
        except Exception as exc:  # a header the library cannot parse still has its raw text
            problems.append(f"{name} header: unparseable ({type(exc).__name__}), raw text used")
            value = text
        if "\ufffd" in value:
            problems.append(f"{name} header: undecodable characters")
        values.append(" ".join(value.split()))
    return values


def _header(msg: Message, name: str, problems: list[str]) -> str | None:
    values = _headers(msg, name, problems)
    return values[0] if values else None


def _rescue_8bit(text: str) -> str:
    """Undo surrogate escapes of raw header bytes: decode them as UTF-8, else Latin-1."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _from(msg: Message, problems: list[str]) -> tuple[str, str | None]:
    """(display name, lower-cased addr-spec) of the first From address."""
    value = _header(msg, "From", problems)
    if value is None:
        problems.append("missing From header")
        return "", None
    name, address = parseaddr(value)
    if not name:  # "MAILER-DAEMON@x (Mail Delivery System)": the parsed header drops comments
        name = parseaddr(" ".join(_rescue_8bit(_raw(msg, "From")).split()))[0]
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
        values.extend(_headers(msg, name, problems))
    addresses = [address.strip().lower() for _, address in getaddresses(values)]
    return _unique([a for a in addresses if "@" in a])


_COMMENT = re.compile(r"\([^()]*\)")


def _msg_ids(value: str) -> list[str]:
    """The msg-ids in a Message-ID, In-Reply-To or References value, each as <...>, once.

    Split on whitespace and commas (some clients comma-join References); comments such as
    "(Olivia's message of ...)" are dropped; a bare id with an @ gets its angle brackets.
    """
    ids = []
    for token in re.split(r"[\s,]+", _COMMENT.sub(" ", value).replace("><", "> <")):
        bare = re.sub(r"[\x00-\x1f\x7f]", "", token).strip("<>")
        if bare and ("@" in bare or token.startswith("<")):
            ids.append(f"<{bare}>")
    return _unique(ids)


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


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _defects(msg: Message) -> list[str]:
    """The MIME structure defects the parser met (bad boundaries, broken base64...)."""
    found: list[str] = []
    for part, where in _parts_with_names(msg):
        found.extend(f"{where}: {_defect_text(d)}" for d in part.defects)
    return found


def _parts_with_names(msg: Message) -> Iterator[tuple[Message, str]]:
    yield msg, "message"
    if msg.get_content_maintype() == "multipart":
        for index, part in enumerate(_children(msg), 1):
            for sub, where in _parts_with_names(part):
                yield sub, f"part {index} ({part.get_content_type()})" if sub is part else where


def _defect_text(defect: MessageDefect) -> str:
    """'InvalidBase64PaddingDefect' -> 'invalid base64 padding', plus its own detail if any."""
    name = type(defect).__name__.removesuffix("Defect")
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
    detail = str(defect)
    return f"{words} ({detail})" if detail and detail != name else words


# ------------------------------------------------------------------------------- classification

_AUTO_SUBJECT = re.compile(
    r"^(?:(?:re|aw)\s*:\s*)*"
    r"(?:out of office|automatic reply|auto-reply|auto reply|autoreply|away from"
    r"|abwesenheitsnotiz|automatische antwort|abwesend"
    r"|absence du bureau|reponse automatique|absent"
    r"|fuera de la oficina|respuesta automatica|ausente)\b",
    re.IGNORECASE,
)


def _is_auto_reply(msg: Message, subject: str) -> bool:
    """RFC 3834 and vendor auto-reply headers, or an out-of-office subject (EN/DE/FR/ES).

    X-Auto-Response-Suppress is deliberately not a signal: it is a request (we send it
    ourselves) and a real reply from Outlook may carry it.
    """
    auto_submitted = msg.get("Auto-Submitted")
    if auto_submitted is not None and _first_word(str(auto_submitted)) != "no":
        return True
    if msg.get("X-Autoreply") is not None or msg.get("X-Autorespond") is not None:
        return True
    if _first_word(str(msg.get("Precedence", ""))) in ("bulk", "junk", "auto_reply"):
        return True
    return bool(_AUTO_SUBJECT.match(_without_accents(subject).strip()))


def _first_word(value: str) -> str:
    """'auto-replied; comment' or 'no (x)' -> its first word, lower-cased."""
    words = re.split(r"[\s;(]+", value.strip(), maxsplit=1)
    return words[0].lower() if words else ""


def _without_accents(text: str) -> str:
    """'Réponse automática' -> 'Reponse automatica': one pattern serves with or without."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _is_delivery_report(msg: Message) -> bool:
    """A DSN: multipart/report with report-type=delivery-status (RFC 3462/3464)."""
    report_type = collapse_rfc2231_value(msg.get_param("report-type", "") or "").lower()
    return msg.get_content_type() == "multipart/report" and report_type == "delivery-status"


# ------------------------------------------------------------------------------------- bounces

_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_TYPES = (
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "message/global-headers",
)


def _report_parts(msg: Message) -> list[Message]:
    return _children(msg) if _is_delivery_report(msg) else []


def _bounce_reports(msg: Message) -> list[BounceReport]:
    """One BounceReport per recipient block whose Action is failed or delayed."""
    reports = []
    for part in _report_parts(msg):
        if part.get_content_type() in _STATUS_TYPES:
            for fields in _status_blocks(part):
                if (report := _bounce_report(fields)) is not None:
                    reports.append(report)
    return reports


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a message/delivery-status part, keys lower-cased, values unfolded."""
    if part.is_multipart():  # the parser splits the blocks into header-only messages
        blocks = _children(part)
    else:
        text = _decoded_payload(part).decode("utf-8", "replace")
        blocks = [
            BytesParser(policy=policy.default).parsebytes(block.encode(), headersonly=True)
            for block in re.split(r"\r?\n\s*\r?\n", text)
        ]
    return [
        {key.lower(): " ".join(_rescue_8bit(value).split()) for key, value in b.raw_items()}
        for b in blocks
    ]


def _bounce_report(fields: dict[str, str]) -> BounceReport | None:
    """The recipient is Original-Recipient (the address we sent to) when the MTA gave it, else
    Final-Recipient (which may be an alias's rewritten address); "rfc822;" is dropped."""
    action = _first_word(fields.get("action", ""))
    address = fields.get("original-recipient") or fields.get("final-recipient")
    if action not in ("failed", "delayed") or not address:
        return None
    recipient = address.split(";", 1)[-1].strip().strip("<>").lower()
    status = (fields.get("status", "").split() or [""])[0]
    diagnostic = fields.get("diagnostic-code", "")
    return BounceReport(storable(recipient), action, storable(status), storable(diagnostic))


def _returned_ids(msg: Message) -> list[str]:
    """References, In-Reply-To and Message-ID (last) of the message a DSN returns."""
    for part in _report_parts(msg):
        ctype = part.get_content_type()
        if ctype not in _RETURNED_TYPES:
            continue
        if children := _children(part):
            original = children[0]
        else:  # headers only, or an encoded message/rfc822 the parser left as text
            original = BytesParser(policy=policy.default).parsebytes(
                _decoded_payload(part), headersonly=True
            )
        ignored: list[str] = []  # the original's header problems are not this message's
        values = [
            " ".join(_headers(original, name, ignored))
            for name in ("References", "In-Reply-To", "Message-ID")
        ]
        return _msg_ids(" ".join(values))
    return []


# ----------------------------------------------------------------------------------- MIME parts


def _leaves(part: Message, in_report: bool = False) -> Iterator[tuple[Message, bool]]:
    """(leaf part, is one of a DSN's report parts), in order. A message/* part is a leaf:
    a forwarded mail is one attachment, and a bounce's returned mail is not our body."""
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        report = part.get_content_type() == "multipart/report"
        for child in _children(part):
            yield from _leaves(child, report)
    else:
        yield part, in_report


def _children(part: Message) -> list[Message]:
    """Sub-parts of a multipart (or the message in a message/rfc822), else []."""
    # is_multipart() first: get_payload() on a leaf can raise for a nonsense charset parameter
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _is_report_part(part: Message, in_report: bool) -> bool:
    return in_report and part.get_content_type() in _STATUS_TYPES + _RETURNED_TYPES


def _is_attachment(part: Message, in_report: bool) -> bool:
    """Any leaf but a body text part and a DSN's own report parts."""
    if _is_report_part(part, in_report):
        return False
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return True
    # A multipart leaf is one whose boundary was lost: its text is still the body.
    return not (
        part.get_content_type() in ("text/plain", "text/html")
        or part.get_content_maintype() == "multipart"
    )


def _attachments(
    leaves: list[tuple[Message, bool]], problems: list[str]
) -> list[InboundAttachment]:
    found: list[InboundAttachment] = []
    for part, in_report in leaves:
        if _is_attachment(part, in_report):
            ctype = part.get_content_type()
            given = _rescue_8bit(part.get_filename() or "").strip()
            name = safe_filename(given) if given else _fallback_name(ctype, len(found) + 1)
            content = _attempt(problems, f"attachment {name!r}", b"", _part_bytes, part)
            found.append(InboundAttachment(name, ctype, content))
    return found


def _part_bytes(part: Message) -> bytes:
    """The decoded content; an attached message as its bytes."""
    if part.is_multipart():
        return b"".join(p.as_bytes() for p in _children(part))
    return _decoded_payload(part)


def _decoded_payload(part: Message) -> bytes:
    """The part's bytes with its transfer encoding undone.

    When base64 is too broken even for the library's lenient decoder it hands back the encoded
    text; decode instead up to the last whole 4-character group, so a truncated upload keeps
    what did arrive.
    """
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return _undecoded(part).encode("utf-8", "surrogateescape")
    if any(isinstance(d, InvalidBase64LengthDefect) for d in part.defects):
        encoded = _undecoded(part).encode("utf-8", "surrogateescape")
        encoded = re.sub(rb"[^A-Za-z0-9+/]", b"", encoded)
        return base64.b64decode(encoded[: len(encoded) // 4 * 4])
    return data


def _undecoded(part: Message) -> str:
    """The payload text as stored, transfer encoding not undone."""
    try:
        return str(part.get_payload() or "")
    except (LookupError, ValueError):  # a charset parameter Python cannot even look up
        return ""


def _fallback_name(content_type: str, number: int) -> str:
    ext = ".eml" if content_type.startswith("message/") else mimetypes.guess_extension(content_type)
    return f"attachment-{number}{ext or '.bin'}"


# ------------------------------------------------------------------------------------ body text


def _body(leaves: list[tuple[Message, bool]], problems: list[str]) -> tuple[str, str]:
    """(whole body as text, the part of it to strip quotes from): text/plain first, else HTML."""
    bodies = [
        part
        for part, in_report in leaves
        if not _is_attachment(part, in_report) and not _is_report_part(part, in_report)
    ]
    plain = [p for p in bodies if p.get_content_subtype() != "html"]
    html = [p for p in bodies if p.get_content_subtype() == "html"]
    text = "\n".join(_part_text(p, problems) for p in plain).strip()
    if text or not html:  # some clients send an empty text/plain beside the real HTML
        return text, text
    markup = "\n".join(_part_text(p, problems) for p in html)
    full_text, before_quote = _html_text(markup)
    return full_text, before_quote or full_text


def _part_text(part: Message, problems: list[str]) -> str:
    """A text part decoded (transfer encoding, charset, format=flowed), with \\n line ends."""
    data = _decoded_payload(part)
    where = f"{part.get_content_type()} part"
    text = _decode(data, part.get_content_charset() or "us-ascii", where, problems)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if str(part.get_param("format", "")).lower() == "flowed":
        text = _unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def _decode(data: bytes, charset: str, where: str, problems: list[str]) -> str:
    """Bytes in the declared charset, else UTF-8, else Latin-1 (which takes any bytes).

    Latin-1 comes last rather than UTF-8 with errors="replace": it cannot fail either, and it
    keeps every byte readable (mislabelled Western-European mail comes out right).
    """
    try:
        return data.decode(charset)
    except LookupError:
        why = f"unknown charset {charset!r}"
    except ValueError:
        why = f"not valid {charset}"
    try:
        text, used = data.decode("utf-8"), "utf-8"
    except ValueError:
        text, used = data.decode("latin-1"), "latin-1"
    problems.append(f"{where}: {why}, decoded as {used}")
    return text


def _unflow(text: str, delsp: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next line."""
    lines: list[tuple[int, str]] = []
    soft = False
    for line in text.split("\n"):
        content = line.lstrip(">")
        depth = len(line) - len(content)
        content = content.removeprefix(" ")  # space-stuffing
        if soft and lines and lines[-1][0] == depth:
            previous = lines[-1][1]
            lines[-1] = (depth, (previous[:-1] if delsp else previous) + content)
        else:
            lines.append((depth, content))
        soft = content.endswith(" ") and content != "-- "  # "-- " is the signature line
    return "\n".join(f"{'>' * depth} {content}" if depth else content for depth, content in lines)


# ------------------------------------------------------------------------------------ HTML text

_BLOCK_TAGS = frozenset(
    "address article blockquote body center dd div dl dt footer form h1 h2 h3 h4 h5 h6 header"
    " html li ol p pre section table tr ul".split()
)
_SKIP_TAGS = frozenset({"head", "script", "style", "title", "template"})
# Where clients start the quoted mail (or the signature) in HTML: Outlook web/desktop/new,
# Gmail, Thunderbird, Yahoo, Apple Mail/iOS (<blockquote type="cite">, checked separately).
_QUOTE_IDS = frozenset(
    "divrplyfwdmsg appendonsend olk_src_body_section"
    " mail-editor-reference-message-container".split()
)
_QUOTE_CLASSES = frozenset(
    "gmail_quote gmail_quote_container gmail_signature moz-cite-prefix moz-signature"
    " yahoo_quoted protonmail_quote".split()
)
# Outlook's plain-text separator; an <hr> becomes one so the text rules see the same thing.
OUTLOOK_SEPARATOR = "_" * 32


class _HtmlText(HTMLParser):
    """HTML to text: a line per block and <br>, blockquotes as "> ", no head/style/script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.quote_at: int | None = None  # index in `lines` where the quoted mail starts
        self._line: list[str] = []
        self._depth = 0  # blockquote nesting
        self._skip: list[str] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._skip.clear()  # a <head> left open ends here
        if tag in _SKIP_TAGS:
            self._skip.append(tag)
        if self._skip:
            return
        if tag in _BLOCK_TAGS or tag in ("br", "hr"):
            self._break(force=tag == "br")
        if self.quote_at is None and _starts_quote(tag, dict(attrs)):
            at = len(self.lines)
            # Outlook web puts an <hr> right above the quoted mail: it belongs to the quote.
            self.quote_at = at - 1 if at and self.lines[-1] == OUTLOOK_SEPARATOR else at
        if tag == "hr":
            self.lines.append(OUTLOOK_SEPARATOR)
        elif tag == "blockquote":
            self._depth += 1
        elif tag == "pre":
            self._pre += 1
        elif tag in ("td", "th") and self._line:
            self._line.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._skip:
            while self._skip.pop() != tag:
                pass
            return
        if self._skip:
            return
        if tag in _BLOCK_TAGS:
            self._break()
        if tag == "blockquote":
            self._depth = max(0, self._depth - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            *complete, data = data.split("\n")
            for piece in complete:
                self._line.append(piece)
                self._break(force=True)
        else:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)  # HTML whitespace, not &nbsp;
            if not self._line:
                data = data.lstrip(" ")
        if data:
            self._line.append(data)

    def finish(self) -> None:
        """Flush the last line once all the HTML is fed."""
        self.close()
        self._break()

    def _break(self, force: bool = False) -> None:
        """End the current line; an empty one only for <br> (blank lines are <br>s or &nbsp;)."""
        text = "".join(self._line).replace("\xa0", " ")
        text = text.rstrip() if self._pre else text.strip()
        if self._line or force:
            self.lines.append(("> " * self._depth + text).rstrip())
        self._line = []


def _starts_quote(tag: str, attrs: dict[str, str | None]) -> bool:
    element_id = (attrs.get("id") or "").lower()
    while element_id.startswith("x_"):  # Outlook prefixes ids again on each reply
        element_id = element_id[2:]
    classes = set((attrs.get("class") or "").lower().split())
    cite = tag == "blockquote" and (attrs.get("type") or "").lower() == "cite"
    return cite or element_id in _QUOTE_IDS or bool(classes & _QUOTE_CLASSES)


def _html_text(html: str) -> tuple[str, str]:
    """(the HTML as text, the text before the quoted mail or "" when no quote was marked)."""
    parser = _HtmlText()
    parser.feed(html)
    parser.finish()
    before = parser.lines[: parser.quote_at] if parser.quote_at is not None else []
    return _tidy(parser.lines), _tidy(before)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: a line per block and <br>, entities decoded."""
    return _html_text(html)[0]


# ----------------------------------------------------------------------------- quote stripping

_ATTRIBUTION = re.compile(
    r"^(?:on\s.+\swrote|am\s.+\sschrieb\b.*|le\s.+\sa\s+écrit|el\s.+\sescribió)\s*:$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^(?:on|am|le|el)\s", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(?:original message|ursprüngliche nachricht|message d'origine|mensaje original)"
    r"\s*-{2,}$",
    re.IGNORECASE,
)
_FROM_LINE = re.compile(r"^(?:from|von|de)\s*:", re.IGNORECASE)
_HEADER_LINE = re.compile(
    r"^(?:sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|enviado|fecha"
    r"|para|asunto)\s*:",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^_{10,}$")
_MOBILE_SIGNATURE = re.compile(
    r"^(?:sent from (?:my|outlook|mail|yahoo)\b|get outlook for\b|von meinem\b.*\bgesendet$"
    r"|envoyé (?:de mon|depuis)\b|enviado desde mi\b)",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINE = 60  # "Sent from my iPhone", not a sentence that starts the same way
_MAX_ATTRIBUTION_LINES = 3  # Gmail and others wrap a long "On ... wrote:" line
_MAX_ATTRIBUTION_CHARS = 400


def strip_quotes(text: str) -> str:
    """The reply without the quoted mail below it and without its signature."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    start, length = _quote_start(lines)
    reply = _tidy(_without_signature(lines[:start]))
    rest = lines[start + length :]
    if reply or not any(_is_quoted(line) for line in rest):
        return reply
    # Nothing above a "> " quote: bottom-posting, or answers between quoted lines; keep those.
    return _tidy(_without_signature([line for line in rest if not _is_quoted(line)]))


def _quote_start(lines: list[str]) -> tuple[int, int]:
    """(index, number of marker lines) where the quoted mail starts; (len(lines), 0) if none."""
    for index, line in enumerate(lines):
        if _ORIGINAL_MESSAGE.match(line.strip()):
            return index, 1
        if _is_header_block(lines, index):
            separator = _previous_text_line(lines, index)
            if separator is not None and _SEPARATOR.match(lines[separator].strip()):
                return separator, index - separator + 1
            return index, 1
        if length := _attribution_length(lines, index):
            return index, length
    block = _trailing_quote_block(lines)
    if block is None and (first := _next_text_line(lines, 0)) is not None:
        block = first if _is_quoted(lines[first]) else None  # a quote first, answers between
    return (block, 0) if block is not None else (len(lines), 0)


def _attribution_length(lines: list[str], index: int) -> int:
    """How many lines the "On <date>, <name> wrote:" line at `index` spans, 0 if it is none."""
    if not _ATTRIBUTION_START.match(lines[index].strip()):
        return 0
    for count in range(1, _MAX_ATTRIBUTION_LINES + 1):
        block = lines[index : index + count]
        # a wrapped attribution has no blank line in it and no second attribution start
        if len(block) < count or any(not line.strip() for line in block):
            return 0
        if count > 1 and _ATTRIBUTION_START.match(block[-1].strip()):
            return 0
        joined = " ".join(line.strip() for line in block)
        if len(joined) > _MAX_ATTRIBUTION_CHARS:  # not an attribution; and keeps the regex cheap
            return 0
        if _ATTRIBUTION.match(joined) and re.search(r"\d", joined):
            return count
    return 0


def _is_header_block(lines: list[str], index: int) -> bool:
    """A "From: ..." line followed by at least two of Sent/Date/To/Cc/Subject (any language)."""
    if not _FROM_LINE.match(lines[index].strip()):
        return False
    following = lines[index + 1 : index + 6]
    return sum(1 for line in following if _HEADER_LINE.match(line.strip())) >= 2


def _previous_text_line(lines: list[str], index: int) -> int | None:
    for previous in range(index - 1, -1, -1):
        if lines[previous].strip():
            return previous
    return None


def _next_text_line(lines: list[str], index: int) -> int | None:
    return next((i for i in range(index, len(lines)) if lines[i].strip()), None)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _trailing_quote_block(lines: list[str]) -> int | None:
    """Start of the run of "> " lines (blank lines allowed) that ends the text, if any."""
    start = None
    for index in range(len(lines) - 1, -1, -1):
        if _is_quoted(lines[index]):
            start = index
        elif lines[index].strip():
            break
    return start


def _without_signature(lines: list[str]) -> list[str]:
    """Cut at the "-- " delimiter, or at a "Sent from my iPhone" kind of line."""
    for index, line in enumerate(lines):
        mobile = len(line) <= _MAX_SIGNATURE_LINE and _MOBILE_SIGNATURE.match(line.strip())
        if line.rstrip() == "--" or mobile:
            return lines[:index]
    return lines


def _tidy(lines: list[str]) -> str:
    """Joined, without leading/trailing blank lines, and at most one blank line in a row."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
