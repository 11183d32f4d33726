"""The evidence pack of a claim: one ZIP with everything a lawyer needs to show service, what
was claimed, what came back and which deadlines were met.

In it: every claim and reminder email the viewer may see as the exact bytes sent (`.eml`,
whose SHA-256 is the email's raw_sha256), each recipient's SMTP outcome (the server's full
reply line, when it accepted, the queue id), the files sent (the claim's PDF among them),
every reply as the raw message received, each web answer with its verification record (the
address, when its one-time code was asked for, delivered and used), the clock (service and
deadlines with their basis), `manifest.json` listing every other file with its SHA-256 and
size, and `index.html`, a timeline to read. Every stored file is checked against its hash as
it is read: a pack never carries bytes that differ from what was recorded.
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, undefer_group

from models.access import hide_bcc, may_see_bcc, visible_emails
from models.base import utcnow
from models.claim import ClaimEvent, ProgressClaim
from models.clock import ClaimClock, clock_of
from models.communication import SNAPSHOT, Communication, RecipientKind
from models.company import User
from models.errors import DomainError
from models.inbound import ClaimDecision, Reply, ReplyVia
from models.service import as_utc
from models.storage import FileStore, safe_filename


class EvidenceError(DomainError):
    """Raised when a stored file no longer matches the hash it was recorded with."""


def iso(value: datetime | None) -> str | None:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@dataclass
class ReplyRecord:
    """A reply as the pack has it: its file, and for a web answer the proof of who gave it."""

    reply: Reply
    path: str
    verification: dict | None = None


@dataclass
class EmailRecord:
    """An email as the pack has it: its folder, the .eml (None if never built), its files."""

    email: Communication
    folder: str
    eml: str | None
    files: list[tuple[str, str]]  # (path in the pack, file name as sent)
    recipients: list  # the Recipient rows the viewer may see
    replies: list[ReplyRecord] = field(default_factory=list)


@dataclass
class Evidence:
    """What a pack holds, before it is written: its files and what the timeline is drawn from."""

    claim: ProgressClaim
    viewer: User
    made_at: datetime
    clock: ClaimClock
    emails: list[EmailRecord]
    decisions: list[ClaimDecision]
    events: list[ClaimEvent]
    claimed: dict | None  # the claim's figures as the serving (else first) claim email sent them
    files: dict[str, bytes] = field(default_factory=dict)


def _checked(store: FileStore, sha256: str, what: str) -> bytes:
    content = store.read(sha256)
    if hashlib.sha256(content).hexdigest() != sha256:
        raise EvidenceError(f"the stored copy of {what} no longer matches its SHA-256 {sha256}")
    return content


def _json(value) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode()


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{ext}" if dot else f"{name} ({n})"
    taken.add(candidate)
    return candidate


def _recipient(viewer: User, email: Communication, r) -> dict:
    return {
        "email": r.email,
        "name": r.name,
        "kind": r.kind,
        "status": r.status,
        "accepted_at": iso(r.accepted_at),
        "smtp_reply": hide_bcc(viewer, email, r.smtp_reply),
        "queue_id": r.queue_id,
        "detail": hide_bcc(viewer, email, r.detail),
    }


def _verification(reply: Reply) -> dict:
    """A web answer's proof: the code sent to the address, and when it was asked for,
    delivered by the address's mail server, and used (models/one_time_code.py)."""
    code = reply.one_time_code
    delivered = None
    if code.code_email is not None:
        delivered = next((r for r in code.code_email.recipients if r.email == code.address), None)
    return {
        "address": code.address,
        "code_asked_for_at": iso(code.created_at),
        "code_email_id": code.code_email_id,
        "code_delivered_at": iso(delivered.accepted_at) if delivered else None,
        "code_delivery_reply": delivered.smtp_reply if delivered else None,
        "code_expires_at": iso(code.expires_at),
        "code_used_at": iso(code.used_at),
        "wrong_tries_before": code.tries,
    }


def _amount(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _reply_json(reply: Reply, verification: dict | None) -> dict:
    return {
        "id": reply.id,
        "via": reply.via,
        "kind": reply.kind,
        "from": reply.from_address,
        "name": reply.from_name,
        "received_at": iso(reply.received_at),
        "sender_verified": reply.sender_verified,
        "decision": reply.decision,
        "read_as": reply.read_as,
        "undecided_reason": reply.undecided_reason,
        "reason": reply.reason,
        "scheduled_amount": _amount(reply.scheduled_amount),
        "lines": [
            {"item": x.item, "claimed": _amount(x.claimed), "scheduled": _amount(x.scheduled),
             "reason": x.reason}
            for x in reply.lines
        ],
        "text": reply.text,
        "verification": verification,
    }  # fmt: skip


def _email_record(
    evidence: Evidence, store: FileStore, email: Communication, number: int
) -> EmailRecord:
    viewer = evidence.viewer
    folder = f"emails/{number:02d}-{email.kind}-email-{email.id}"
    eml = None
    if email.raw_sha256:
        eml = f"{folder}/message.eml"
        evidence.files[eml] = _checked(store, email.raw_sha256, f"email #{email.id}")
    taken: set[str] = set()
    files = []
    for attachment in email.attachments:
        name = _unique(safe_filename(attachment.filename), taken)
        path = f"{folder}/files/{name}"
        evidence.files[path] = _checked(store, attachment.sha256, attachment.filename)
        files.append((path, attachment.filename))
    shown = [
        r for r in email.recipients if r.kind != RecipientKind.BCC or may_see_bcc(viewer, email)
    ]
    record = EmailRecord(email, folder, eml, files, shown)
    for n, reply in enumerate(email.replies, start=1):
        if reply.via == ReplyVia.WEB:
            path = f"{folder}/replies/{n:02d}-web-answer-{reply.id}.json"
            verification = _verification(reply)
            evidence.files[path] = _json(_reply_json(reply, verification))
            record.replies.append(ReplyRecord(reply, path, verification))
        elif reply.inbound is not None:
            path = f"{folder}/replies/{n:02d}-{reply.kind}-{reply.id}.eml"
            evidence.files[path] = _checked(
                store, reply.inbound.raw_sha256, f"received message #{reply.inbound_id}"
            )
            record.replies.append(ReplyRecord(reply, path))
    if email.figures_json:
        evidence.files[f"{folder}/figures-as-sent.json"] = email.figures_json.encode()
    evidence.files[f"{folder}/delivery.json"] = _json(
        {
            "email_id": email.id,
            "kind": email.kind,
            "subject": email.subject,
            "private": email.private,
            "message_id": email.message_id,
            "in_reply_to": email.follows_email.message_id if email.follows_email else None,
            "sender": {"name": email.sender.name, "email": email.sender.email},
            "state": email.state,
            "raw_sha256": email.raw_sha256,
            "message_file": eml,
            "sent_at": iso(email.sent_at),
            "recipients": [_recipient(viewer, email, r) for r in shown],
            "events": [
                {"state": e.state, "at": iso(e.at), "actor": e.actor,
                 "note": hide_bcc(viewer, email, e.note)}
                for e in email.events
            ],
            "replies": [
                {"id": r.reply.id, "via": r.reply.via, "kind": r.reply.kind,
                 "from": r.reply.from_address, "received_at": iso(r.reply.received_at),
                 "decision": r.reply.decision, "file": r.path}
                for r in record.replies
            ],
        }
    )  # fmt: skip
    return record


def clock_json(clock: ClaimClock, at: datetime) -> dict:
    """The clock as the pack states it, as of `at` (when the pack was made)."""
    today = clock.today(at)
    service = clock.service
    return {
        "jurisdiction": clock.jurisdiction,
        "as_of": iso(at),
        "served_at": iso(service.accepted_at) if service else None,
        "served_local": service.service.at.isoformat() if service else None,
        "service_basis": service.basis if service else None,
        "served_on": (
            {"email_id": service.email_id, "recipient": service.recipient_email,
             "smtp_reply": service.smtp_reply, "queue_id": service.queue_id}
            if service else None
        ),
        "answered_at": iso(clock.answered_at),
        "deadlines": [
            {"kind": d.kind, "due": d.due.isoformat(), "basis": d.basis,
             "met_at": iso(d.met_at), "state": d.state(today)}
            for d in clock.deadlines
        ],
    }  # fmt: skip


def collect(session: Session, claim: ProgressClaim, viewer: User, store: FileStore) -> Evidence:
    """Everything the pack of `claim` holds for `viewer` (the emails they may see), read and
    checked from the FileStore. Raises EvidenceError if a stored file was altered."""
    emails = session.scalars(
        visible_emails(viewer)
        .where(Communication.claim_id == claim.id)
        .order_by(None)
        .order_by(Communication.id)
        .options(
            undefer_group(SNAPSHOT),  # the pack holds each email's snapshot
            selectinload(Communication.recipients),
            selectinload(Communication.attachments),
            selectinload(Communication.events),
            selectinload(Communication.replies).selectinload(Reply.lines),
        )
    ).all()
    clock = clock_of(session, claim)
    shown_replies = {r.id for e in emails for r in e.replies}
    decisions = [
        d
        for d in session.scalars(
            select(ClaimDecision)
            .where(ClaimDecision.claim_id == claim.id)
            .order_by(ClaimDecision.decided_at, ClaimDecision.id)
        )
        if d.reply_id in shown_replies
    ]
    serving = next(
        (e for e in emails if clock.service and e.id == clock.service.email_id), None
    ) or next((e for e in emails if e.figures_json), None)
    evidence = Evidence(
        claim=claim,
        viewer=viewer,
        made_at=utcnow(),
        clock=clock,
        emails=[],
        decisions=decisions,
        events=list(claim.events),
        claimed=json.loads(serving.figures_json) if serving and serving.figures_json else None,
    )
    evidence.emails = [
        _email_record(evidence, store, email, n) for n, email in enumerate(emails, start=1)
    ]
    evidence.files["clock.json"] = _json(clock_json(clock, evidence.made_at))
    return evidence


def timeline(evidence: Evidence) -> list[tuple[datetime, str, str | None]]:
    """What happened, oldest first: (when, what, the file in the pack that shows it)."""
    entries: list[tuple[datetime, str, str | None]] = []
    for record in evidence.emails:
        email, delivery = record.email, f"{record.folder}/delivery.json"
        entries.append(
            (email.created_at, f"{email.kind.capitalize()} email #{email.id} “{email.subject}” "
             f"queued by {email.sender.name}", delivery)
        )  # fmt: skip
        for r in record.recipients:
            if r.accepted_at is not None:
                queue = f", queue id {r.queue_id}" if r.queue_id else ""
                entries.append(
                    (r.accepted_at, f"Email #{email.id} accepted for {r.email} ({r.kind.upper()}) "
                     f"by its mail server: “{r.smtp_reply}”{queue}", record.eml or delivery)
                )  # fmt: skip
        for reply in record.replies:
            r = reply.reply
            what = {"bounce": "Bounce", "auto_reply": "Automatic reply"}.get(r.kind, "Reply")
            if r.via == ReplyVia.WEB:
                what = "Answer on the client's page"
                code = r.one_time_code
                entries.append(
                    (code.created_at, f"One-time code asked for by {code.address}", reply.path)
                )
            decided = f" ({r.decision})" if r.decision else ""
            entries.append(
                (r.received_at, f"{what} from {r.from_address}{decided} to email #{email.id}",
                 reply.path)
            )  # fmt: skip
    for event in evidence.events:
        what = event.note or f"status {event.status}"
        entries.append((event.at, f"{what[0].upper()}{what[1:]} ({event.actor})", None))
    if (service := evidence.clock.service) is not None:
        entries.append(
            (service.accepted_at, f"Claim served on {service.recipient_email}", "clock.json")
        )
    return sorted(((as_utc(at), what, path) for at, what, path in entries), key=lambda e: e[0])


@dataclass(frozen=True)
class Pack:
    content: bytes  # the ZIP
    manifest_sha256: str
    file_count: int


def write_pack(evidence: Evidence, index_html: str) -> Pack:
    """The ZIP: every collected file and index.html, with manifest.json listing each of them
    (path, SHA-256, size). Entries carry the time the pack was made."""
    files = dict(evidence.files)
    files["index.html"] = index_html.encode()
    claim = evidence.claim
    manifest = {
        "claim": {
            "id": claim.id,
            "number": claim.number,
            "head_contract": claim.head_contract.number,
            "project": claim.project.number,
        },
        "made_at": iso(evidence.made_at),
        "made_by": evidence.viewer.email,
        "files": [
            {"path": path, "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
            for path, content in sorted(files.items())
        ],
    }
    manifest_bytes = _json(manifest)
    stamp = as_utc(evidence.made_at).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in [("manifest.json", manifest_bytes), *sorted(files.items())]:
            archive.writestr(zipfile.ZipInfo(path, date_time=stamp), content, zipfile.ZIP_DEFLATED)
    return Pack(out.getvalue(), hashlib.sha256(manifest_bytes).hexdigest(), len(files) + 1)


def record_pack(session: Session, evidence: Evidence, pack: Pack) -> ClaimEvent:
    """The claim's record that a pack was made, by whom, with its manifest's hash. The
    caller commits."""
    event = ClaimEvent(
        claim_id=evidence.claim.id,
        at=evidence.made_at,
        actor=evidence.viewer.name,
        note=(
            f"evidence pack made ({pack.file_count} files): manifest.json SHA-256 "
            f"{pack.manifest_sha256}"
        ),
    )
    session.add(event)
    return event
