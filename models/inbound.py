"""Mail that came back: every received message kept raw, the replies matched to our emails,
and the client's written decisions on claims."""

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, bindparam, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, Email, Money, Str200, Timestamp, utcnow
from models.claim import ProgressClaim
from models.communication import Communication

log = logging.getLogger(__name__)


class InboundStatus(StrEnum):
    """Where a received message is: stored, then processed into one of the others."""

    STORED = "stored"
    PROCESSING = "processing"
    MATCHED = "matched"
    UNMATCHED = "unmatched"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    FAILED = "failed"
    REFUSED = "refused"  # turned away before it was received (no such reply address)


class MatchMethod(StrEnum):
    """How a received message was tied to one of our emails (in the order they are tried)."""

    TOKEN_ENVELOPE = "token_envelope"
    TOKEN_HEADER = "token_header"
    IN_REPLY_TO = "in_reply_to"
    REFERENCES = "references"
    OPERATOR = "operator"


class ReplyKind(StrEnum):
    REPLY = "reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"


class InboundMessage(Base):
    """A received message, stored raw (by SHA-256) before anything acknowledges it."""

    __tablename__ = "inbound_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)  # Message-ID or content hash
    raw_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    via: Mapped[str] = mapped_column(String(10), index=True)  # smtp, webhook, ingest
    envelope_from: Mapped[str] = mapped_column(String(300), default="")
    envelope_to: Mapped[str] = mapped_column(Text, default="")  # one address per line
    received_at: Mapped[Timestamp] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(20), default=InboundStatus.STORED, index=True)
    status_changed_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    match_method: Mapped[str | None] = mapped_column(String(20), index=True)
    communication_id: Mapped[int | None] = mapped_column(ForeignKey("communication.id"), index=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    from_address: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[Timestamp | None]
    operator_note: Mapped[str] = mapped_column(Text, default="")  # who reprocessed / assigned
    # How many times a worker took it up; one that dies on it every time must end as failed.
    processing_attempts: Mapped[int] = mapped_column(default=0, server_default="0")

    communication: Mapped[Communication | None] = relationship()

    def set_status(self, status: InboundStatus) -> None:
        self.status = status
        self.status_changed_at = utcnow()
        _log_status(self.id, status, self.communication_id)

    def __str__(self) -> str:
        return f"#{self.id} {self.subject or '(no subject)'}"


def move_inbound(
    session: Session,
    inbound_id: int,
    expected: InboundStatus,
    new: InboundStatus,
    changed_before: datetime | None = None,
    **values,
) -> bool:
    """Compare-and-set a received message's status (stored -> processing makes one worker
    process it, once); False, changing nothing, if it is not as expected."""
    conditions = [InboundMessage.id == inbound_id, InboundMessage.status == expected]
    if changed_before is not None:
        conditions.append(InboundMessage.status_changed_at < changed_before)
    result = session.execute(_moved(new, values).where(*conditions))
    if result.rowcount != 1:
        return False
    _log_status(inbound_id, new, values.get("communication_id"))
    return True


def _moved(new: InboundStatus, values: dict, at=None):
    """The UPDATE that moves a message to `new`, stamped `at` (now, unless a statement built
    once binds it at each execution); the caller adds its WHERE."""
    return (
        update(InboundMessage)
        .values(status=new, status_changed_at=utcnow() if at is None else at, **values)
        .execution_options(synchronize_session=False)
    )


# Built once, as every received message is claimed: a statement object keeps its cache key
# from one execution to the next, where one built at each call is built and keyed again.
_CLAIM = (
    _moved(
        InboundStatus.PROCESSING,
        {"processing_attempts": InboundMessage.processing_attempts + 1},
        at=bindparam("now"),  # the column's type, as a value would have
    )
    .where(
        InboundMessage.id == bindparam("inbound_id"),
        InboundMessage.status == InboundStatus.STORED,
    )
    .returning(InboundMessage)
    # The values just written, even over a copy this session had loaded before.
    .execution_options(populate_existing=True)
)


def claim_inbound(session: Session, inbound_id: int) -> "InboundMessage | None":
    """stored -> processing, counting the attempt, as `move_inbound` does, and the message as
    it now is, in the same statement (UPDATE ... RETURNING): a worker that claims it need not
    read it again. None, changing nothing, if it is not `stored`."""
    claimed = session.scalars(_CLAIM, {"inbound_id": inbound_id, "now": utcnow()}).first()
    if claimed is not None:
        _log_status(inbound_id, InboundStatus.PROCESSING, None)
    return claimed


def _log_status(inbound_id: int | None, status: InboundStatus, email_id: int | None) -> None:
    log.info(
        "received message %s is %s",
        inbound_id,
        status,
        extra={
            "event": "inbound.status",
            "inbound_id": inbound_id,
            "state": str(status),
            "email_id": email_id,
        },
    )


class ReplyVia(StrEnum):
    EMAIL = "email"  # a received message
    WEB = "web"  # an answer on the client's page, proved by a one-time code


class Reply(Base):
    """An answer to one of our emails, as the Emails tab shows it: a received message matched
    to it, or an answer given on the client's page."""

    __tablename__ = "reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    via: Mapped[str] = mapped_column(String(10), default=ReplyVia.EMAIL, server_default="email")
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"), unique=True)
    # A web answer's proof: the code sent to the address and used to answer.
    one_time_code_id: Mapped[int | None] = mapped_column(ForeignKey("one_time_code.id"))
    communication_id: Mapped[int] = mapped_column(ForeignKey("communication.id"), index=True)
    from_address: Mapped[Email]
    from_name: Mapped[Str200]
    received_at: Mapped[Timestamp]  # when we received it: our clock, not the sender's
    dated_at: Mapped[Timestamp | None]  # the sender's Date header, when it is a real date
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text, default="")
    full_text: Mapped[str] = mapped_column(Text, default="")
    # The message the sender forwarded, whole; "" when they forwarded none. Never the
    # sender's own words (those are `text`), so never read for a decision.
    forwarded: Mapped[str] = mapped_column(Text, default="")
    sender_verified: Mapped[bool] = mapped_column(default=False)
    # What the receiving mail server's Authentication-Results said of the From domain, when
    # TRUSTED_AUTHSERV_ID is set (None: not checked).
    sender_authenticated: Mapped[bool | None]
    # What the text reads as (approved / rejected), whoever wrote it; `decision` only when it
    # counts, and `undecided_reason` says why a reading did not.
    read_as: Mapped[str | None] = mapped_column(String(10))
    decision: Mapped[str | None] = mapped_column(String(10))
    undecided_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    # A payment schedule's amount (what the client will pay), from the client's page.
    scheduled_amount: Mapped[Money | None]

    inbound: Mapped[InboundMessage | None] = relationship()
    one_time_code: Mapped["OneTimeCode | None"] = relationship()  # noqa: F821
    communication: Mapped[Communication] = relationship(back_populates="replies")
    attachments: Mapped[list["ReplyAttachment"]] = relationship(
        back_populates="reply", order_by="ReplyAttachment.id", cascade="all, delete-orphan"
    )
    lines: Mapped[list["ReplyLine"]] = relationship(
        back_populates="reply", order_by="ReplyLine.id", cascade="all, delete-orphan"
    )


class ReplyLine(Base):
    """What a payment schedule says of one line: the amount scheduled and, where less than
    claimed, why (withholding without a reason is void under the Security of Payment Acts)."""

    __tablename__ = "reply_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id"), index=True)
    item: Mapped[str] = mapped_column(String(80))
    claimed: Mapped[Money]
    scheduled: Mapped[Money]
    reason: Mapped[str] = mapped_column(Text, default="")

    reply: Mapped[Reply] = relationship(back_populates="lines")


class ReplyAttachment(Base):
    """A file that came with a reply; over-limit files are recorded as refused, not stored."""

    __tablename__ = "reply_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id"), index=True)
    filename: Mapped[Str200]
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
    sha256: Mapped[str | None] = mapped_column(String(64))
    refused: Mapped[bool] = mapped_column(default=False)

    reply: Mapped[Reply] = relationship(back_populates="attachments")


class ClaimDecision(Base):
    """The client's written decision on a claim, from a verified reply."""

    __tablename__ = "claim_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("progress_claim.id"), index=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text, default="")
    scheduled_amount: Mapped[Money | None]
    person_name: Mapped[Str200]
    person_email: Mapped[Email]
    decided_at: Mapped[Timestamp]
    applied_at: Mapped[Timestamp | None]
    applied_by: Mapped[str | None] = mapped_column(String(200))
    # A billing admin who confirmed a decision whose sender the mail server did not
    # authenticate (the reply alone did not count).
    confirmed_by: Mapped[str | None] = mapped_column(String(200))

    claim: Mapped[ProgressClaim] = relationship()
    reply: Mapped[Reply] = relationship()
