"""MIME walking and decoding: the leaf parts in order, their bytes and their text.

A message/* part is a leaf (a forwarded mail is one attachment, a bounce's returned mail is
not our body); transfer encodings are undone leniently, charsets fall back rather than fail.
"""

import base64
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.errors import InvalidBase64LengthDefect
from email.message import Message

from models.storage import safe_filename
from workers.mailreader.attempt import attempt
from workers.mailreader.headers import defect_text, rescue_8bit

# A delivery report's machine-readable parts (RFC 3464, RFC 6533) and the returned message.
STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
RETURNED_TYPES = (
    "message/rfc822",
    "message/global",
    "text/rfc822-headers",
    "message/global-headers",
)


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


Leaf = tuple[Message, bool]  # (leaf part, is one of a delivery report's own parts)


def leaves(part: Message, in_report: bool = False) -> Iterator[Leaf]:
    """(leaf part, is one of a DSN's report parts), in order."""
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        report = part.get_content_type() == "multipart/report"
        for child in children(part):
            yield from leaves(child, report)
    else:
        yield part, in_report


def children(part: Message) -> list[Message]:
    """Sub-parts of a multipart (or the message in a message/rfc822), else []."""
    # is_multipart() first: get_payload() on a leaf can raise for a nonsense charset parameter
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def is_report_part(part: Message, in_report: bool) -> bool:
    return in_report and part.get_content_type() in STATUS_TYPES + RETURNED_TYPES


def is_attachment(part: Message, in_report: bool) -> bool:
    """Any leaf but a body text part and a DSN's own report parts."""
    if is_report_part(part, in_report):
        return False
    if part.get_content_disposition() == "attachment" or part.get_filename():
        return True
    # A multipart leaf is one whose boundary was lost: its text is still the body.
    return not (
        part.get_content_type() in ("text/plain", "text/html")
        or part.get_content_maintype() == "multipart"
    )


def body_parts(found: list[Leaf]) -> tuple[list[Message], list[Message]]:
    """(text/plain parts, text/html parts) of the body, in order."""
    bodies = [
        part
        for part, in_report in found
        if not is_attachment(part, in_report) and not is_report_part(part, in_report)
    ]
    plain = [p for p in bodies if p.get_content_subtype() != "html"]
    html = [p for p in bodies if p.get_content_subtype() == "html"]
    return plain, html


def attachments(found: list[Leaf], problems: list[str]) -> list[InboundAttachment]:
    result: list[InboundAttachment] = []
    for part, in_report in found:
        if is_attachment(part, in_report):
            ctype = declared_type(part)
            given = rescue_8bit(part.get_filename() or "").strip()
            name = safe_filename(given) if given else _fallback_name(ctype, len(result) + 1)
            content = attempt(problems, f"attachment {name!r}", b"", _part_bytes, part)
            result.append(InboundAttachment(name, ctype, content))
    return result


def declared_type(part: Message) -> str:
    """The part's type/subtype; application/octet-stream when its Content-Type is not one
    (the library reads "Content-Type: pdf" as text/plain, which a browser would show)."""
    given = part.get("Content-Type")
    if given is not None and not re.match(r"\s*[\w.+-]+/[\w.+-]+\s*(;|$)", str(given)):
        return "application/octet-stream"
    return part.get_content_type()


def _part_bytes(part: Message) -> bytes:
    """The decoded content; an attached message as its bytes."""
    if part.is_multipart():
        return b"".join(p.as_bytes() for p in children(part))
    return decoded_payload(part)


def decoded_payload(part: Message) -> bytes:
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


def part_text(part: Message, problems: list[str]) -> str:
    """A text part decoded (transfer encoding, charset, format=flowed), with \\n line ends."""
    data = decoded_payload(part)
    where = f"{part.get_content_type()} part"
    text = decode(data, part.get_content_charset() or "us-ascii", where, problems)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if str(part.get_param("format", "")).lower() == "flowed":
        text = _unflow(text, delsp=str(part.get_param("delsp", "")).lower() == "yes")
    return text


def decode(data: bytes, charset: str, where: str, problems: list[str]) -> str:
    """Bytes in the declared charset, else UTF-8, else Windows-1252, else Latin-1.

    Mislabelled mail is nearly always Western-European from Windows: cp1252 reads its smart
    quotes and dashes (0x80-0x9F), which Latin-1 turns into control characters; Latin-1,
    which takes any bytes, is last. A charset detector (charset-normalizer) read short
    Western replies worse (see the README), so none is used.
    """
    try:
        return data.decode(charset)
    except LookupError:
        why = f"unknown charset {charset!r}"
    except ValueError:
        why = f"not valid {charset}"
    for used in ("utf-8", "cp1252", "latin-1"):
        try:
            text = data.decode(used)
            break
        except ValueError:
            continue
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


def defects(msg: Message) -> list[str]:
    """The MIME structure defects the parser met (bad boundaries, broken base64...)."""
    found: list[str] = []
    for part, where in _parts_with_names(msg):
        found.extend(f"{where}: {defect_text(d)}" for d in part.defects)
    return found


def _parts_with_names(msg: Message) -> Iterator[tuple[Message, str]]:
    yield msg, "message"
    if msg.get_content_maintype() == "multipart":
        for index, part in enumerate(children(msg), 1):
            for sub, where in _parts_with_names(part):
                yield sub, f"part {index} ({part.get_content_type()})" if sub is part else where
