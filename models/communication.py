"""Claim emails ("communications"): who they go to, what was attached, and their life.

An email moves queued -> rendered -> sending -> sent -> replied, or to failed / cancelled.
Every move is a compare-and-set on the row, so two workers can never both move one email
and a redelivered message for an email that has moved on is a no-op.
"""

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event, false, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, Email, Str200, Timestamp, utcnow
from models.claim import ProgressClaim
from models.company import User
from models.project import Contact

log = logging.getLogger(__name__)


class EmailState(StrEnum):
    """Where a claim email is in its life; `sending` guards the SMTP conversation."""

    QUEUED = "queued"
    RENDERED = "rendered"
    SENDING = "sending"
    SENT = "sent"
    REPLIED = "replied"
    FAILED = "failed"
    CANCELLED = "cancelled"


class EmailKind(StrEnum):
    """What an email is for: the claim itself, a reminder about it, a one-time code for the
    client's page, or the confirmation of a client's answer."""

    CLAIM = "claim"
    REMINDER = "reminder"
    CODE = "code"
    CONFIRMATION = "confirmation"


# The kinds the claim's Emails tab (and its API list) shows; codes and confirmations are
# the client page's own mail.
CLAIM_TAB_KINDS = (EmailKind.CLAIM, EmailKind.REMINDER)


class RecipientKind(StrEnum):
    TO = "to"
    CC = "cc"
    BCC = "bcc"


class DeliveryStatus(StrEnum):
    """What the receiving server said about one recipient."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    BOUNCED = "bounced"


# Recipients a (re)send goes to: not yet accepted by their server. A retry after a failure
# sends to the refused ones again; those already accepted never get a second copy.
UNDELIVERED = {DeliveryStatus.PENDING, DeliveryStatus.REJECTED}

# The deferred group of an email's snapshot columns (its HTML, text, figures and headers).
SNAPSHOT = "snapshot"


def _snapshot_column():
    return mapped_column(Text, deferred=True, deferred_group=SNAPSHOT)


class Communication(Base):
    """One email about a claim, and the snapshot of exactly what it said."""

    __tablename__ = "communication"
    # The dashboard's counts read only this index (visibility, state and times of each email),
    # never the rows with their bodies: one pass over 100,000 emails in tens of milliseconds.
    __table_args__ = (
        Index(
            "ix_communication_dashboard",
            "claim_id",
            "kind",
            "state",
            "private",
            "sender_id",
            "sent_at",
            "created_at",
        ),
        # An API client's Idempotency-Key: a POST repeated after a lost answer is one email.
        UniqueConstraint("sender_id", "idempotency_key", name="uq_communication_idempotency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("progress_claim.id"), index=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(20), default=EmailKind.CLAIM, server_default="claim")
    private: Mapped[bool] = mapped_column(default=False, index=True)
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default=EmailState.QUEUED, index=True)
    state_changed_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    reply_token: Mapped[str] = mapped_column(String(64), unique=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    # Names the email in the client page's link (see models/client_link.py).
    client_key: Mapped[str | None] = mapped_column(String(32), unique=True)
    # The Idempotency-Key the API client sent with the POST that created it, if any.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(default=0)
    retry_at: Mapped[Timestamp | None]  # when a send that met transient trouble is retried
    last_error: Mapped[str | None] = mapped_column(Text)  # the technical detail, for operators
    # The last failure in words (models/failures.py): its kind and facts.
    failure_kind: Mapped[str | None] = mapped_column(String(40))
    failure_facts: Mapped[str | None] = mapped_column(Text)
    # An operator's Cancel while an attempt was under way: it wins when the attempt ends,
    # unless the server took the email in that attempt.
    cancel_requested_at: Mapped[Timestamp | None]
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[Timestamp | None] = mapped_column(index=True)  # the dashboard's latency
    # The exact bytes of the message as sent, in the FileStore: built once at the first send
    # attempt (Date and Message-ID fixed) and sent unchanged by every retry.
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    # The snapshot taken at rendering: later edits to the claim do not change it. The last
    # columns of the row (migration 0022): SQLite reaches a column after them only by reading
    # their 100 KB, and every visibility check reads `kind`. Loaded only when one of them is
    # read (the four together): a list, a join or a worker's refresh leaves them where they
    # are; a query that reads them for many emails says so (undefer_group(SNAPSHOT)).
    html_body: Mapped[str | None] = _snapshot_column()
    text_body: Mapped[str | None] = _snapshot_column()
    figures_json: Mapped[str | None] = _snapshot_column()
    headers_text: Mapped[str | None] = _snapshot_column()

    claim: Mapped[ProgressClaim] = relationship()
    sender: Mapped[User] = relationship()
    recipients: Mapped[list["Recipient"]] = relationship(
        back_populates="communication", order_by="Recipient.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="communication", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["EmailEvent"]] = relationship(
        back_populates="communication", order_by="EmailEvent.id", cascade="all, delete-orphan"
    )
    replies: Mapped[list["Reply"]] = relationship(  # noqa: F821 (models/inbound.py)
        back_populates="communication",
        order_by="Reply.id",  # arrival, not the sender's clock
    )
    # A code email: the one-time code it carries (models/one_time_code.py).
    carried_code: Mapped["OneTimeCode | None"] = relationship(  # noqa: F821
        primaryjoin="Communication.id == foreign(OneTimeCode.code_email_id)",
        viewonly=True,
        uselist=False,
    )
    # A confirmation email: the claim email whose answer it confirms.
    answered_email_id: Mapped[int | None] = mapped_column(ForeignKey("communication.id"))
    answered_email: Mapped["Communication | None"] = relationship(
        remote_side="Communication.id", foreign_keys=[answered_email_id]
    )
    # A reminder: the claim email it follows in the same thread (In-Reply-To, References).
    follows_email_id: Mapped[int | None] = mapped_column(ForeignKey("communication.id"))
    follows_email: Mapped["Communication | None"] = relationship(
        remote_side="Communication.id", foreign_keys=[follows_email_id]
    )

    def __str__(self) -> str:
        return self.subject


class Recipient(Base):
    """A person an email went to, and what their mail server said."""

    __tablename__ = "recipient"
    # An email's recipients, and what the statutory clock asks of them (a claim's first
    # acceptance by a serving recipient, models/service.py), from the index alone.
    __table_args__ = (
        Index(
            "ix_recipient_served", "communication_id", "kind", "status", "accepted_at", "contact_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    communication_id: Mapped[int] = mapped_column(ForeignKey("communication.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    email: Mapped[Email] = mapped_column(index=True)  # searched, and who sees what
    name: Mapped[Str200]
    kind: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    detail: Mapped[str] = mapped_column(Text, default="")
    # The delivery record: the server's reply that settled this recipient, in full (its
    # reply to DATA when it took the message, to RCPT or DATA when it refused), when DATA was
    # accepted for them, and the queue id the server gave the message.
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    # Indexed: the statutory clocks look up the claims served in the last months by it.
    accepted_at: Mapped[Timestamp | None] = mapped_column(index=True)
    queue_id: Mapped[str | None] = mapped_column(String(100))

    communication: Mapped[Communication] = relationship(back_populates="recipients")
    contact: Mapped[Contact | None] = relationship()


class Attachment(Base):
    """A file sent with an email, stored once under its SHA-256 (see models/storage.py)."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    communication_id: Mapped[int] = mapped_column(ForeignKey("communication.id"), index=True)
    filename: Mapped[Str200]
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    # Made by ClaimPost at rendering (the claim's PDF), not uploaded by the sender.
    generated: Mapped[bool] = mapped_column(default=False, server_default=false())

    communication: Mapped[Communication] = relationship(back_populates="attachments")


class EmailEvent(Base):
    """A recorded move of an email's state: when, by whom, and why."""

    __tablename__ = "email_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    communication_id: Mapped[int] = mapped_column(ForeignKey("communication.id"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200), default="system")
    note: Mapped[str] = mapped_column(Text, default="")  # technical (errors): for operators
    # A failure this move recorded, in words for everyone (models/failures.py).
    failure_kind: Mapped[str | None] = mapped_column(String(40))
    failure_facts: Mapped[str | None] = mapped_column(Text)

    communication: Mapped[Communication] = relationship(back_populates="events")

    # Sent per hour and per day (the dashboard): events of one state over a time range.
    __table_args__ = (Index("ix_email_event_state_at", "state", "at"),)


def move(
    session: Session,
    communication_id: int,
    expected: set[EmailState],
    new: EmailState,
    *,
    actor: str = "system",
    note: str = "",
    changed_before: datetime | None = None,
    where: tuple = (),
    **values,
) -> bool:
    """Compare-and-set the email from one of `expected` to `new`, recording the event.

    With `changed_before`, only if it has been in that state since before then; `where`
    adds conditions of the caller's. Returns False, changing nothing, when the email is no
    longer as expected. The caller commits.
    """
    now = utcnow()
    conditions = [
        Communication.id == communication_id,
        Communication.state.in_([str(s) for s in expected]),
        *where,
    ]
    if changed_before is not None:
        conditions.append(Communication.state_changed_at < changed_before)
    result = session.execute(
        update(Communication)
        .where(*conditions)
        .values(state=new, state_changed_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    failure = {k: values[k] for k in ("failure_kind", "failure_facts") if k in values}
    session.add(
        EmailEvent(
            communication_id=communication_id,
            state=new,
            at=now,
            actor=actor,
            note=note,
            **failure,
        )
    )
    email = session.get(Communication, communication_id)
    _log_when_committed(
        session,
        {
            "event": "email.state",
            "email_id": communication_id,
            "message_id": email.message_id if email is not None else None,
            "state": str(new),
            "actor": actor,
            "note": note[:500],
        },
    )
    return True


# A move's log line waits for its commit: one rolled back afterwards (another worker won, the
# attempt failed) must not leave a line for a state the email never reached.
_PENDING_LOGS = "claimpost.pending_state_logs"


def _log_when_committed(session: Session, fields: dict) -> None:
    session.info.setdefault(_PENDING_LOGS, []).append(fields)


@event.listens_for(Session, "after_commit")
def _write_committed_logs(session: Session) -> None:
    for fields in session.info.pop(_PENDING_LOGS, []):
        log.info("email %s is %s", fields["email_id"], fields["state"], extra=fields)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_logs(session: Session) -> None:
    session.info.pop(_PENDING_LOGS, None)


def retry(session: Session, communication_id: int, operator: str) -> bool:
    """failed -> queued, with a fresh attempt count (operators). The caller commits, then
    enqueues the render; an email rendered before keeps its snapshot."""
    return move(
        session,
        communication_id,
        {EmailState.FAILED},
        EmailState.QUEUED,
        actor=operator,
        note="retried by an operator",
        attempts=0,
        retry_at=None,
        cancel_requested_at=None,  # one that came as it failed is answered by this Retry
    )


# What an operator's Cancel stops at once: an email not on its way yet, or failed. One being
# sent gets a cancel request instead (request_cancel).
CANCELLABLE = {EmailState.QUEUED, EmailState.RENDERED, EmailState.FAILED}


class CancelOutcome(StrEnum):
    """What an operator's Cancel did."""

    CANCELLED = "cancelled"  # the email will not be sent
    REQUESTED = "requested"  # an attempt is under way: it is not tried again unless it worked


def request_cancel(session: Session, communication_id: int, operator: str) -> bool:
    """Record a cancel request on an email being sent, once (compare-and-set on `sending`):
    when the attempt ends the worker cancels it, unless the server took it in that attempt.
    The request is a history line of its own (it is no move), so live pages show it."""
    now = utcnow()
    result = session.execute(
        update(Communication)
        .where(
            Communication.id == communication_id,
            Communication.state == EmailState.SENDING,
            Communication.cancel_requested_at.is_(None),
        )
        .values(cancel_requested_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.add(
        EmailEvent(
            communication_id=communication_id,
            state=EmailState.SENDING,
            at=now,
            actor=operator,
            note="cancel requested by an operator during an attempt",
        )
    )
    return True


def cancel(session: Session, communication_id: int, operator: str) -> CancelOutcome | None:
    """Operators: queued/rendered/failed -> cancelled, the email will not be sent (one
    waiting between attempts included); one being sent gets a cancel request. None when it
    had moved on (sent, cancelled, or a request already made). The caller commits."""
    for _ in range(2):  # an attempt may end between the two: ask again once
        if move(
            session,
            communication_id,
            CANCELLABLE,
            EmailState.CANCELLED,
            actor=operator,
            note="cancelled by an operator",
        ):
            return CancelOutcome.CANCELLED
        if request_cancel(session, communication_id, operator):
            return CancelOutcome.REQUESTED
    return None
