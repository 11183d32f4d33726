"""Reminders until answered: a short email to the client before each statutory deadline of a
served claim that has no written answer yet.

When: on each of the company's reminder days (Company.reminder_days, business days before the
deadline; "3,0" by default: three counted days before and on the day itself), from
REMINDER_HOUR in the jurisdiction's time. A pass that comes later (the workers were down)
sends the latest reminder whose day has come, once; none before the day after service, none
after the deadline, none for a claim with reminders off or a written decision.

Exactly once: each reminder is a row keyed (claim, deadline kind, due date, days before) under
a unique constraint, inserted with ON CONFLICT DO NOTHING before its email is made. Two passes
at the same moment (several workers run the job) both try the insert; the database lets one
have the row and the other gets nothing back, so it makes no email. No check-then-insert.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, Timestamp, utcnow
from models.claim import ProgressClaim
from models.clock import LOOKBACK, ClaimClock, ClockedDeadline, clocks_of, served_unanswered
from models.communication import (
    Communication,
    DeliveryStatus,
    EmailEvent,
    EmailKind,
    EmailState,
    Recipient,
    RecipientKind,
)
from models.company import Company
from models.contract import HeadContract
from models.deadlines import RULES, format_day
from models.inbound import ClaimDecision
from models.project import Project
from models.reply_token import new_message_id, new_reply_token

ACTOR = "ClaimPost reminders"
REMINDER_HOUR = 8  # reminders go out from 8 am on their day, in the jurisdiction's time
MAX_DAYS_BEFORE = 20


class Reminder(Base):
    """One reminder of one deadline of a claim, sent (or being sent) by `communication`."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("claim_id", "deadline_kind", "due", "days_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("progress_claim.id"), index=True)
    deadline_kind: Mapped[str] = mapped_column(String(30))
    due: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int]
    # The claim email it follows, and the reminder email (set in the transaction that won
    # the row).
    original_email_id: Mapped[int] = mapped_column(ForeignKey("communication.id"))
    communication_id: Mapped[int | None] = mapped_column(ForeignKey("communication.id"), index=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)

    communication: Mapped[Communication | None] = relationship(foreign_keys=[communication_id])


def parse_reminder_days(text: str) -> tuple[int, ...]:
    """The company's reminder days, "3, 0" -> (3, 0), latest first; "" -> () (no reminders).
    Raises ValueError saying what is wrong."""
    days = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.isascii() and part.isdigit()) or int(part) > MAX_DAYS_BEFORE:
            raise ValueError(
                f"{part!r} is not a number of business days from 0 (the day itself) to "
                f"{MAX_DAYS_BEFORE}"
            )
        days.add(int(part))
    return tuple(sorted(days, reverse=True))


def format_reminder_days(days: tuple[int, ...]) -> str:
    return ",".join(str(day) for day in days)


@dataclass(frozen=True)
class Due:
    """A reminder whose day has come: the deadline and how many days before it this is."""

    deadline: ClockedDeadline
    days_before: int


def reminders_due(clock: ClaimClock, days: tuple[int, ...], now: datetime) -> list[Due]:
    """The reminders of the claim's deadlines whose day has come by `now` (see the module)."""
    if clock.service is None or clock.answered_at is not None or not days:
        return []
    rules = RULES[clock.jurisdiction]
    local = now.astimezone(ZoneInfo(rules.time_zone))
    if local.hour < REMINDER_HOUR:
        return []
    today, served_on = local.date(), clock.service.service.on
    due = []
    for deadline in clock.deadlines:
        if today > deadline.due:
            continue
        slots = [(rules.calendar.before(deadline.due, n), n) for n in days]
        reached = [(day, n) for day, n in slots if served_on < day <= today]
        if reached:
            due.append(Due(deadline, max(reached)[1]))
    return due


def candidates(session: Session, now: datetime) -> list[ProgressClaim]:
    """Claims that may need a reminder now: served lately, unanswered, reminders on (for the
    claim and its company), under an Act."""
    return session.scalars(
        select(ProgressClaim)
        .join(ProgressClaim.head_contract)
        .join(HeadContract.project)
        .join(Project.company)
        .where(
            served_unanswered(since=now - LOOKBACK),
            ~ProgressClaim.reminders_off,
            Company.reminder_days != "",
            HeadContract.jurisdiction != "none",
        )
        .order_by(ProgressClaim.id)
    ).all()


def _claim_row(session: Session, clock: ClaimClock, due: Due, original_id: int) -> int | None:
    """Insert the reminder's row unless it exists: its id, or None if another pass has it."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[
        session.get_bind().dialect.name
    ]
    statement = (
        insert(Reminder)
        .values(
            claim_id=clock.claim_id,
            deadline_kind=due.deadline.kind,
            due=due.deadline.due,
            days_before=due.days_before,
            original_email_id=original_id,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["claim_id", "deadline_kind", "due", "days_before"])
        .returning(Reminder.id)
    )
    return session.execute(statement).scalar_one_or_none()


def clock_words(clock: ClaimClock, today: date) -> str:
    """The claim's running deadlines, one line each ("Payment schedule: by ..."), as the
    reminder states them."""
    lines = []
    for deadline in clock.unmet(today):
        left = deadline.days_left(today)
        unit = RULES[clock.jurisdiction].calendar.unit
        if deadline.state(today) == "overdue":
            when = "passed"
        elif left == 0:
            when = "today"
        else:
            when = f"in {left} {unit if left != 1 else unit.rstrip('s')}"
        lines.append(f"{deadline.words}: by {format_day(deadline.due)}, {when} ({deadline.basis}).")
    return "\n".join(lines)


def reminder_email(
    original: Communication, clock: ClaimClock, now: datetime, secret_key: str, mail_domain: str
) -> Communication:
    """The reminder of `original` (the claim email that served the claim): the same subject
    with "Reminder: " before it, to its To recipients that were not refused or bounced (the
    one whose acceptance served the claim is always among them), in its thread, from the
    same sender."""
    to = [
        r
        for r in original.recipients
        if r.kind == RecipientKind.TO
        and r.status not in (DeliveryStatus.REJECTED, DeliveryStatus.BOUNCED)
    ]
    claim = original.claim
    token = new_reply_token(secret_key)
    served = clock.service.service
    message = (
        f"{claim.terms.claim} #{claim.number} for {claim.head_contract.number} was served on "
        f"{format_day(served.on)} and has no answer yet.\n" + clock_words(clock, clock.today(now))
    )
    return Communication(
        claim=claim,
        sender=original.sender,
        kind=EmailKind.REMINDER,
        private=original.private,
        subject=f"Reminder: {original.subject}"[:300],
        message=message,
        state=EmailState.QUEUED,
        reply_token=token,
        message_id=new_message_id(token, mail_domain),
        follows_email=original,
        recipients=[
            Recipient(contact=r.contact, email=r.email, name=r.name, kind=RecipientKind.TO)
            for r in to
        ],
        events=[EmailEvent(state=EmailState.QUEUED, actor=ACTOR)],
    )


@dataclass(frozen=True)
class Queued:
    """A reminder email made by a pass, and what it reminds of."""

    email: Communication
    reminded: list[Due]


def remind(
    session: Session, clock: ClaimClock, now: datetime, secret_key: str, mail_domain: str
) -> Queued | None:
    """Make the claim's reminder due now, if any and if no other pass made it: one email for
    the deadlines whose reminder day has come. The caller commits (then enqueues it)."""
    claim = session.get(ProgressClaim, clock.claim_id)
    days = parse_reminder_days(claim.project.company.reminder_days)
    due = reminders_due(clock, days, now)
    if not due:
        return None
    original = session.get(Communication, clock.service.email_id)
    won = [(d, row) for d in due if (row := _claim_row(session, clock, d, original.id))]
    if not won:
        return None
    email = reminder_email(original, clock, now, secret_key, mail_domain)
    session.add(email)
    session.flush()
    session.execute(
        update(Reminder)
        .where(Reminder.id.in_([row for _, row in won]))
        .values(communication_id=email.id)
    )
    return Queued(email, [d for d, _ in won])


def queue_reminders(
    session: Session, now: datetime, secret_key: str, mail_domain: str
) -> list[Queued]:
    """One pass: each candidate claim's reminder, committed claim by claim (a lock is held
    only while one claim's rows are written). The caller enqueues the emails."""
    claims = candidates(session, now)
    clocks = clocks_of(session, claims)
    queued = []
    for claim in claims:
        made = remind(session, clocks[claim.id], now, secret_key, mail_domain)
        session.commit()
        if made is not None:
            queued.append(made)
    return queued


def moot(session: Session, email: Communication) -> str | None:
    """Why a queued reminder must not go out any more (its claim was answered, or reminders
    were turned off for it), or None."""
    if email.kind != EmailKind.REMINDER:
        return None
    claim = session.get(ProgressClaim, email.claim_id)
    if claim.reminders_off:
        return "reminders were turned off for this claim before it went out"
    answered = select(ClaimDecision.id).where(ClaimDecision.claim_id == email.claim_id)
    if session.scalar(answered.limit(1)) is not None:
        return "the claim was answered before the reminder went out"
    return None
