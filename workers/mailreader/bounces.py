"""Bounces: delivery status notifications, who failed and why, and what they return."""

import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value

from models.base import storable
from workers.mailreader.headers import first_word, headers, msg_ids, rescue_8bit
from workers.mailreader.mime import RETURNED_TYPES, STATUS_TYPES, children, decoded_payload


@dataclass(frozen=True)
class BounceReport:
    """One failed or delayed recipient of a delivery status notification."""

    recipient: str
    action: str
    status: str
    diagnostic: str


def is_delivery_report(msg: Message) -> bool:
    """A DSN: multipart/report with report-type=delivery-status (RFC 3462/3464)."""
    report_type = collapse_rfc2231_value(msg.get_param("report-type", "") or "").lower()
    return msg.get_content_type() == "multipart/report" and report_type == "delivery-status"


def _report_parts(msg: Message) -> list[Message]:
    return children(msg) if is_delivery_report(msg) else []


def bounce_reports(msg: Message) -> list[BounceReport]:
    """One BounceReport per recipient block whose Action is failed or delayed."""
    reports = []
    for part in _report_parts(msg):
        if part.get_content_type() in STATUS_TYPES:
            for fields in _status_blocks(part):
                if (report := _bounce_report(fields)) is not None:
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


def _bounce_report(fields: dict[str, str]) -> BounceReport | None:
    """The recipient is Original-Recipient (the address we sent to) when the MTA gave it, else
    Final-Recipient (which may be an alias's rewritten address); "rfc822;" is dropped."""
    action = first_word(fields.get("action", ""))
    address = fields.get("original-recipient") or fields.get("final-recipient")
    if action not in ("failed", "delayed") or not address:
        return None
    recipient = address.split(";", 1)[-1].strip().strip("<>").lower()
    status = (fields.get("status", "").split() or [""])[0]
    diagnostic = fields.get("diagnostic-code", "")
    return BounceReport(storable(recipient), action, storable(status), storable(diagnostic))


def returned_ids(msg: Message) -> list[str]:
    """References, In-Reply-To and Message-ID (last) of the message a DSN returns."""
    for part in _report_parts(msg):
        ctype = part.get_content_type()
        if ctype not in RETURNED_TYPES:
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
    return []
