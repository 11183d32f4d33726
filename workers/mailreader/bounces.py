"""Bounces: who could not be reached, why, and which of our emails it was.

The standard kind is RFC 3464's delivery status notification (a message/delivery-status part,
normally under multipart/report): one block per recipient with its Action, Status and
Diagnostic-Code. Many systems still send plain text instead, or alongside: Gmail's "Delivery
Status Notification (Failure)" with X-Failed-Recipients, Exchange/Office 365 NDRs, Exim,
qmail, old sendmail, Yahoo and AOL. Those are read from the sender (a mail system), the
subject, the X-Failed-Recipients header and the report text above the returned message.
A delay notice reports a delay: its recipient is noted, never marked bounced.
"""

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value

from models.base import storable
from workers.mailreader.autoreply import is_mail_system
from workers.mailreader.headers import addresses_in, first_word, headers, msg_ids, rescue_8bit
from workers.mailreader.mime import (
    RETURNED_TYPES,
    STATUS_TYPES,
    Leaf,
    children,
    decoded_payload,
)

FAILED, DELAYED = "failed", "delayed"


@dataclass(frozen=True)
class BounceReport:
    """One failed or delayed recipient of a delivery report."""

    recipient: str
    action: str
    status: str
    diagnostic: str


# ------------------------------------------------------------------------- RFC 3464 reports


def is_delivery_report(msg: Message, found: list[Leaf]) -> bool:
    """A DSN: multipart/report with report-type=delivery-status (RFC 3462/3464), or a
    delivery-status part anywhere (a gateway may re-wrap the report in multipart/mixed)."""
    report_type = collapse_rfc2231_value(msg.get_param("report-type", "") or "").lower()
    if msg.get_content_type() == "multipart/report" and report_type == "delivery-status":
        return True
    return any(part.get_content_type() in STATUS_TYPES for part, _ in found)


def status_reports(found: list[Leaf]) -> list[BounceReport]:
    """One BounceReport per recipient block whose Action is failed or delayed."""
    reports = []
    for part, _ in found:
        if part.get_content_type() in STATUS_TYPES:
            for fields in _status_blocks(part):
                if (report := _status_report(fields)) is not None:
                    reports.append(report)
    return reports


def _status_blocks(part: Message) -> list[dict[str, str]]:
    """The header blocks of a message/delivery-status part, keys lower-cased, values unfolded."""
    if part.is_multipart():  # the parser splits the blocks into header-only messages
        blocks = children(part)
    else:
        text = decoded_payload(part).decode("utf-8", "replace")
        blocks = [
            BytesParser(policy=policy.default).parsebytes(block.encode(), headersonly=True)
            for block in re.split(r"\r?\n\s*\r?\n", text)
        ]
    return [
        {key.lower(): " ".join(rescue_8bit(value).split()) for key, value in b.raw_items()}
        for b in blocks
    ]


def _status_report(fields: dict[str, str]) -> BounceReport | None:
    """The recipient is Original-Recipient (the address we sent to) when the MTA gave it, else
    Final-Recipient (which may be an alias's rewritten address); "rfc822;" is dropped."""
    action = first_word(fields.get("action", ""))
    address = fields.get("original-recipient") or fields.get("final-recipient")
    if action not in (FAILED, DELAYED) or not address:
        return None
    recipient = address.split(";", 1)[-1].strip().strip("<>").lower()
    status = (fields.get("status", "").split() or [""])[0]
    diagnostic = fields.get("diagnostic-code", "")
    return BounceReport(storable(recipient), action, storable(status), storable(diagnostic))


# ---------------------------------------------------------------------- plain-text reports

_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status notification|failure|failed|has failed|problem"
    r"|report|delayed|notification)|mail delivery (?:failed|failure|delayed)|returned mail"
    r"|failure notice|could not be delivered|returned to sender|warning: message .* delayed"
    r"|non remis|unzustellbar|nicht zustellbar|zustellung (?:fehlgeschlagen|verz)"
    r"|no se puede entregar|no entregado|non recapitabile|onbestelbaar|niet bezorgd"
    r"|nao entregue|недоставлен|не доставлен|niedostarczon|olevererbar",
    re.IGNORECASE,
)
_DELAY = re.compile(
    r"\bdelay|has not (?:yet )?been delivered|not been delivered yet|will (?:continue to )?"
    r"(?:retry|be retried|try)|still (?:trying|being retried)|\bdeferred|temporar"
    r"|noch nicht zugestellt|verzögert|retardé|retrasad|ritardat|vertraagd|atrasad|задерж"
    r"|opóźnion|försenad",
    re.IGNORECASE,
)
_PERMANENT = re.compile(
    r"permanent|could ?n[o']t be delivered|was ?n[o']t delivered|undeliverable|delivery"
    r" (?:has )?failed|failed permanently|given up|giving up|fatal error|does not exist"
    r"|user unknown|unknown user|not found|no such user|address rejected|rejected",
    re.IGNORECASE,
)
# Where the report ends and the returned message (or its headers) begins.
_RETURNED_START = re.compile(
    r"^\W*(?:-{2,}\s*)?(?:below this line is a copy of the message|this is a copy of the"
    r" message|original message(?: headers)?|original message follows|returned message"
    r"|message headers? follows?|undelivered message headers)\b"
    r"|^(?:return-path|received|dkim-signature|arc-seal|x-received):",
    re.IGNORECASE,
)
# "550 5.1.1 ...", "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##", "554: delivery error"
_SMTP_REPLY = re.compile(
    r"(?:^|[\s#'(\[])([245]\d\d)(?![.\d])(?:[\s:-]+([245]\.\d{1,3}\.\d{1,3}))?\b"
)
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_HEADER_LINE = re.compile(r"^\s*(?:from|to|cc|bcc|reply-to|sender|subject|date)\s*:", re.I)


def is_plain_bounce(msg: Message, from_address: str | None, from_name: str, subject: str) -> bool:
    """A non-standard bounce: from a mail system (or naming the failed recipients in
    X-Failed-Recipients, or an Exchange NDR) and saying it could not deliver."""
    from_system = is_mail_system(from_address, from_name)
    says_so = bool(_BOUNCE_SUBJECT.search(subject))
    if msg.get("X-Failed-Recipients") is not None and (from_system or says_so):
        return True
    return (from_system or msg.get("X-MS-Exchange-Message-Is-Ndr") is not None) and says_so


def text_reports(msg: Message, subject: str, text: str) -> list[BounceReport]:
    """The recipients a plain-text bounce reports, with the server's words for each."""
    report = _report_section(text)
    failed_header = addresses_in(headers(msg, "X-Failed-Recipients", []))
    own = set(addresses_in(headers(msg, "From", [])))
    recipients = failed_header or [a for a in _addresses(report) if a not in own]
    reports = []
    for recipient in recipients:
        diagnostic = _diagnostic(report, recipient)
        # The server's reply code says it best (4xx: it will try again); else the words.
        code = _SMTP_REPLY.search(diagnostic)
        if failed_header or (code and code.group(1)[0] == "5"):
            delayed = False
        else:
            delayed = bool(code and code.group(1)[0] == "4") or _is_delay(subject, report)
        status = _status(diagnostic, delayed)
        action = DELAYED if delayed else FAILED
        reports.append(BounceReport(storable(recipient), action, status, storable(diagnostic)))
    return reports


def _report_section(text: str) -> str:
    """The report itself: the text above the returned message."""
    lines = text.split("\n")
    end = next((i for i, line in enumerate(lines) if _RETURNED_START.match(line)), len(lines))
    return "\n".join(lines[:end])


def _addresses(report: str) -> list[str]:
    """Addresses the report names, except in header lines (those describe the message)."""
    found: list[str] = []
    for line in report.split("\n"):
        if not _HEADER_LINE.match(line):
            found.extend(a.lower().strip(".") for a in _ADDRESS.findall(line))
    return list(dict.fromkeys(found))


def _is_delay(subject: str, report: str) -> bool:
    words = f"{subject}\n{report}"
    return bool(_DELAY.search(words)) and not _PERMANENT.search(words)


def _diagnostic(report: str, recipient: str) -> str:
    """The first line with an SMTP reply code after the recipient is named, else anywhere."""
    lines = report.split("\n")
    named = next((i for i, line in enumerate(lines) if recipient in line.lower()), 0)
    for line in lines[named:] + lines[:named]:
        if _SMTP_REPLY.search(line):
            return " ".join(line.split()).strip("'\"")
    return ""


def _status(diagnostic: str, delayed: bool) -> str:
    """The enhanced status code (RFC 3463) of the diagnostic, else one from its reply code."""
    found = _SMTP_REPLY.search(diagnostic)
    if found and found.group(2):
        return found.group(2)
    if found:
        return f"{found.group(1)[0]}.0.0"
    return "4.0.0" if delayed else "5.0.0"


# ----------------------------------------------------------------------- the returned message


def returned_ids(found: list[Leaf], text: str) -> list[str]:
    """References, In-Reply-To and Message-ID (last) of the message a bounce returns: from its
    message/rfc822 or text/rfc822-headers part, else from the returned headers in the text."""
    for part, _ in found:
        if part.get_content_type() not in RETURNED_TYPES:
            continue
        if parts := children(part):
            original = parts[0]
        else:  # headers only, or an encoded message/rfc822 the parser left as text
            original = BytesParser(policy=policy.default).parsebytes(
                decoded_payload(part), headersonly=True
            )
        ignored: list[str] = []  # the original's header problems are not this message's
        values = [
            " ".join(headers(original, name, ignored))
            for name in ("References", "In-Reply-To", "Message-ID")
        ]
        return msg_ids(" ".join(values))
    values = [
        " ".join(re.findall(rf"^\s*{name}\s*:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE))
        for name in ("references", "in-reply-to", "message-id")
    ]
    return msg_ids(" ".join(values))
