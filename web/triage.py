"""What the Inbound page tells an operator about one received message: its main headers, its
text, why it matched no email (in words), and the emails it may be a reply to, by claim,
subject, sender and date (only emails the operator may see: models/access.py)."""

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload, selectinload

from models import Communication, HeadContract, InboundMessage, ProgressClaim, Project, User
from models.access import visible_emails
from models.communication import EmailState, Recipient
from workers.mailreader import ParsedMail
from workers.replies import TOKEN_ADDRESS, token_of

MAIN_HEADERS = (
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "In-Reply-To",
    "References",
    "Delivered-To",
    "X-Original-To",
    "Auto-Submitted",
    "Precedence",
)

STATUS_WORDS = {
    "stored": "Received, not read yet",
    "processing": "Being read",
    "matched": "A reply to one of our emails",
    "unmatched": "Matched no email",
    "auto_reply": "Automatic reply (out of office)",
    "bounce": "Bounce (delivery report)",
    "failed": "Could not be read",
    "refused": "Refused (no such reply address)",
}
METHOD_WORDS = {
    "token_envelope": "Reply address, envelope recipient",
    "token_header": "Reply address, To/Cc header",
    "in_reply_to": "In-Reply-To header",
    "references": "References header",
    "operator": "Assigned by an operator",
}
VIA_WORDS = {
    "smtp": "Mail server (SMTP)",
    "webhook": "Mail provider (webhook)",
    "ingest": "Imported",
}

# Candidates read at most, newest first, before they are ranked; and shown at most.
CANDIDATES_READ, CANDIDATES_SHOWN = 200, 15
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|antw)\s*:\s*)+", re.IGNORECASE)


def words(table: dict[str, str], value: str | None) -> str:
    """A stored code as the page says it (the code itself if the table has no words)."""
    return table.get(value or "", value or "")


def main_headers(raw: bytes) -> list[tuple[str, str]]:
    """The headers an operator reads first, decoded, in a fixed order (each as often as it
    appears)."""
    message = message_from_bytes(raw, policy=policy.compat32)
    shown = []
    for name in MAIN_HEADERS:
        for value in message.get_all(name) or []:
            try:
                text = str(make_header(decode_header(str(value))))
            except (LookupError, ValueError, UnicodeError):
                text = str(value)
            shown.append((name, " ".join(text.split())))
    return shown


def _reply_address_words(addresses: list[str], where: str) -> str:
    """Why the reply addresses among `addresses` named no email of ours."""
    if not addresses:
        return f"{where}: none."
    config = current_app.config
    ours = [a for a in addresses if TOKEN_ADDRESS.match(a.strip().strip("<>"))]
    if not ours:
        return f"{where}: {', '.join(addresses)}; none is one of our reply addresses."
    if any(token_of(a, config["REPLY_DOMAIN"], config["SECRET_KEY"]) for a in ours):
        return (
            f"{where}: {', '.join(ours)} is a reply address of ours, but of no email we have "
            "(an email deleted, or of another installation)."
        )
    return (
        f"{where}: {', '.join(ours)} looks like a reply address, but its token is not one we "
        "signed (changed on the way, or for another reply domain)."
    )


def _message_ids_words(ids: list[str], header: str) -> str:
    if not ids:
        return f"{header}: the message has none."
    return f"{header}: {', '.join(ids)}; none is the Message-ID of an email we sent."


def why_unmatched(message: InboundMessage, parsed: ParsedMail) -> list[str]:
    """Each way a reply finds its email (DESIGN.md: token, In-Reply-To, References), and why
    that way found none for this message, in words."""
    return [
        _reply_address_words(message.envelope_to.split(), "Envelope recipients"),
        _reply_address_words(parsed.recipient_addresses, "To, Cc, Delivered-To, X-Original-To"),
        _message_ids_words(parsed.in_reply_to, "In-Reply-To"),
        _message_ids_words(parsed.references, "References"),
    ]


@dataclass(frozen=True)
class Candidate:
    """An email the message may be a reply to, and why it is offered."""

    email: Communication
    reasons: tuple[str, ...]

    @property
    def score(self) -> int:
        return len(self.reasons)


def _bare_subject(subject: str) -> str:
    return " ".join(_REPLY_PREFIX.sub("", subject or "").lower().split())


def _reasons(email: Communication, message: InboundMessage) -> tuple[str, ...]:
    reasons = []
    sender = (message.from_address or "").lower()
    if sender and any(r.email == sender for r in email.recipients):
        reasons.append("sent to this sender")
    bare, ours = _bare_subject(message.subject), _bare_subject(email.subject)
    if bare and ours and (bare == ours or ours in bare or bare in ours):
        reasons.append("same subject")
    number = re.search(rf"#\s*{email.claim.number}\b", message.subject or "")
    if number and email.claim.head_contract.number.lower() in (message.subject or "").lower():
        reasons.append("names the claim")
    return tuple(reasons)


def _search(query, text: str):
    """Emails whose subject, recipients, contract or project number, or claim number match."""
    like = f"%{text.strip().lower()}%"
    recipient = sa.exists().where(
        Recipient.communication_id == Communication.id,
        sa.or_(sa.func.lower(Recipient.email).like(like), sa.func.lower(Recipient.name).like(like)),
    )
    conditions = [sa.func.lower(Communication.subject).like(like), recipient]
    conditions += [
        sa.func.lower(HeadContract.number).like(like),
        sa.func.lower(Project.number).like(like),
    ]
    number = text.strip().lstrip("#")
    if number.isdigit() and len(number) < 9:
        conditions.append(ProgressClaim.number == int(number))
    return query.where(sa.or_(*conditions))


def candidates(session: Session, user: User, message: InboundMessage, text: str = ""):
    """Emails the user may see that went out before the message arrived, ranked: sent to its
    sender, the same subject, the claim named in it, then the newest."""
    query = (
        visible_emails(user)
        .join(Communication.claim)
        .join(ProgressClaim.head_contract)
        .join(HeadContract.project)
        .where(
            Communication.state.in_([EmailState.SENT, EmailState.REPLIED]),
            Communication.sent_at <= message.received_at,
        )
        .order_by(None)
        .order_by(Communication.sent_at.desc(), Communication.id.desc())
        .limit(CANDIDATES_READ)
        .options(
            selectinload(Communication.recipients),
            joinedload(Communication.claim).joinedload(ProgressClaim.head_contract),
        )
    )
    if text.strip():
        query = _search(query, text)
    found = [Candidate(e, _reasons(e, message)) for e in session.scalars(query).unique()]
    found.sort(key=lambda c: -c.score)  # stable: the newest first among equals
    return found[:CANDIDATES_SHOWN]
