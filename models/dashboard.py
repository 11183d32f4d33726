"""The operator's dashboard: is mail flowing, what needs attention, who has not answered.

Every figure is computed over the emails a user may see (the row condition
models.access.email_visible, applied to the counted rows themselves rather than as an id list)
and over a bounded set of them, found first by an index on a time or a state: the recent
emails, recipients and events, or the unsettled emails; never a pass over every email ever
sent. Counts are grouped in the database, time series into quarter hours there and into the
company's local hours and days here (so a company in Adelaide, at +9:30, gets its own midnight).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.claim import ClaimStatus, ProgressClaim
from models.communication import (
    Communication,
    DeliveryStatus,
    EmailEvent,
    EmailKind,
    EmailState,
    Recipient,
)
from models.inbound import ClaimDecision

# Emails still moving, or failed and waiting for someone, are counted however old they are;
# the settled ones (sent, replied, cancelled) over the emails created in the last 30 days:
# a count over every email of years of history is a full pass the dashboard cannot afford.
UNSETTLED = (EmailState.QUEUED, EmailState.RENDERED, EmailState.SENDING, EmailState.FAILED)
SETTLED_WINDOW = timedelta(days=30)
QUARTER_HOUR = 900  # seconds: the grain of the time series (every zone's offset is a multiple)
LATENCY_WINDOW = timedelta(days=7)
LATENCY_SAMPLE = 5000  # the newest sent emails the percentiles are taken over, at most
AWAITING_SHOWN = 10
AWAITING_SCANNED = 500


@dataclass(frozen=True)
class Awaiting:
    """A claim whose email reached the client and has had no answer since."""

    claim_id: int
    label: str
    sent_at: datetime
    waiting: timedelta


@dataclass
class Dashboard:
    by_state: dict[str, int]  # UNSETTLED ones all, the others created since settled_since
    settled_since: datetime
    sent_per_hour: list[tuple[datetime, int]]  # the last 24 local hours, oldest first
    sent_per_day: list[tuple[date, int]]  # the last 30 local days, oldest first
    latency_p50: timedelta | None
    latency_p95: timedelta | None
    latency_sample: int
    recipients_delivered: int  # accepted by their server in the last 30 days (then bounced or not)
    recipients_bounced: int
    awaiting: list[Awaiting] = field(default_factory=list)
    awaiting_count: int = 0

    @property
    def failed(self) -> int:
        return self.by_state.get(EmailState.FAILED, 0)

    @property
    def bounce_rate(self) -> float | None:
        """Bounced / delivered over 30 days, None when nothing was delivered."""
        if not self.recipients_delivered:
            return None
        return self.recipients_bounced / self.recipients_delivered


def _on_postgresql(session: Session) -> bool:
    """Whether the figures are asked of PostgreSQL (else SQLite): their SQL differs in places."""
    return session.get_bind().dialect.name == "postgresql"


def _quarter_hour(session: Session, column):
    """The quarter hour (seconds since 1970 // 900) of a stored UTC time, in SQL."""
    if _on_postgresql(session):
        return sa.cast(sa.func.floor(sa.extract("epoch", column) / QUARTER_HOUR), sa.BigInteger)
    # Floor division: SQLAlchemy's `/` divides integers as reals, one group per second.
    return sa.cast(sa.func.strftime("%s", column), sa.Integer) // QUARTER_HOUR


def _sent_quarters(session: Session, visible, since: datetime) -> list[tuple[datetime, int]]:
    """How many emails moved to `sent` in each quarter hour since `since` (UTC times)."""
    bucket = _quarter_hour(session, EmailEvent.at).label("bucket")
    rows = session.execute(
        sa.select(bucket, sa.func.count())
        .join(Communication, EmailEvent.communication_id == Communication.id)
        .where(EmailEvent.state == EmailState.SENT, EmailEvent.at >= since, visible)
        .group_by(bucket)
    )
    return [(datetime.fromtimestamp(int(b) * QUARTER_HOUR, UTC), n) for b, n in rows]


def _series(quarters, zone: ZoneInfo, now: datetime):
    """Quarter-hour counts folded into the last 24 local hours and the last 30 local days."""
    local_now = now.astimezone(zone)
    this_hour = local_now.replace(minute=0, second=0, microsecond=0)
    hours = {this_hour - timedelta(hours=h): 0 for h in range(23, -1, -1)}
    today = local_now.date()
    days = {today - timedelta(days=d): 0 for d in range(29, -1, -1)}
    for start, count in quarters:
        local = start.astimezone(zone)
        hour = local.replace(minute=0, second=0, microsecond=0)
        if hour in hours:
            hours[hour] += count
        if local.date() in days:
            days[local.date()] += count
    return list(hours.items()), list(days.items())


def _percentile(sorted_values: list[timedelta], share: float) -> timedelta | None:
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, round(share * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _seconds_to_send(session: Session):
    """Queued -> sent of an email in seconds, in SQL (a number per row, not two times)."""
    if _on_postgresql(session):
        return sa.extract("epoch", Communication.sent_at - Communication.created_at)
    days = sa.func.julianday(Communication.sent_at) - sa.func.julianday(Communication.created_at)
    return days * 86400


def _found_by(session: Session, condition):
    """The emails for which `condition` (on an indexed column) holds, found by that index
    first: a figure over recent or unsettled emails then asks visibility of those only, where
    SQLite, which keeps no statistics, would walk every visible email ever sent. PostgreSQL
    gets the condition itself: with the statistics autovacuum keeps, it reads the same rows
    by the same index and asks visibility of a hash of the claims, where the subquery made it
    look each row up again by its id (twice the time at 100k emails)."""
    if _on_postgresql(session):
        return condition
    return Communication.id.in_(sa.select(Communication.id).where(condition))


def _by_state(session: Session, visible, since: datetime) -> dict[str, int]:
    counts = {}
    for found, states in (
        (_found_by(session, Communication.state.in_(UNSETTLED)), UNSETTLED),
        (
            _found_by(session, Communication.created_at >= since),
            set(EmailState) - set(UNSETTLED),
        ),
    ):
        counts.update(
            session.execute(
                sa.select(Communication.state, sa.func.count())
                .where(found, visible, Communication.state.in_([str(s) for s in states]))
                .group_by(Communication.state)
            ).all()
        )
    return {str(s): counts.get(str(s), 0) for s in EmailState}


def _latencies(session: Session, visible, now: datetime) -> list[timedelta]:
    """Queued -> sent of the newest emails sent in the last week (at most LATENCY_SAMPLE)."""
    seconds = session.scalars(
        sa.select(_seconds_to_send(session))
        .where(
            _found_by(session, Communication.sent_at >= now - LATENCY_WINDOW),
            visible,
            Communication.state.in_([EmailState.SENT, EmailState.REPLIED]),
        )
        .order_by(Communication.sent_at.desc())
        .limit(LATENCY_SAMPLE)
    )
    return [timedelta(seconds=round(float(s), 3)) for s in sorted(seconds)]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite drops the zone


def _awaiting(session: Session, visible, now: datetime) -> tuple[list[Awaiting], int]:
    """Claims with an email delivered and not answered since: no human reply (the email is
    still `sent`, not `replied`) and no decision recorded after it; oldest first."""
    first_sent = sa.func.min(Communication.sent_at).label("first_sent")
    rows = session.execute(
        sa.select(Communication.claim_id, first_sent)
        .where(
            visible,
            Communication.kind == EmailKind.CLAIM,
            Communication.state == EmailState.SENT,
        )
        .group_by(Communication.claim_id)
        .order_by(first_sent)
        .limit(AWAITING_SCANNED)
    ).all()
    if not rows:
        return [], 0
    claim_ids = [claim_id for claim_id, _ in rows]
    decided = dict(
        session.execute(
            sa.select(ClaimDecision.claim_id, sa.func.max(ClaimDecision.decided_at))
            .where(ClaimDecision.claim_id.in_(claim_ids))
            .group_by(ClaimDecision.claim_id)
        ).all()
    )
    claims = {
        c.id: c
        for c in session.scalars(sa.select(ProgressClaim).where(ProgressClaim.id.in_(claim_ids)))
    }
    waiting = []
    for claim_id, sent_at in rows:
        claim, sent_at = claims[claim_id], _aware(sent_at)
        last_decision = decided.get(claim_id)
        if claim.status == ClaimStatus.APPROVED or (
            last_decision is not None and _aware(last_decision) >= sent_at
        ):
            continue
        waiting.append(Awaiting(claim_id, str(claim), sent_at, now - sent_at))
    return waiting[:AWAITING_SHOWN], len(waiting)


def _delivered_and_bounced(session: Session, visible, since: datetime) -> tuple[int, int]:
    """Recipients accepted by their server since `since`, and how many of them bounced, of
    the emails for which `visible` holds. The recipients by the index on the time accepted,
    counted per email, then each email's visibility asked once (as a join, SQLite walks every
    visible email instead; asked per recipient, PostgreSQL looked each email up twice)."""
    email_id = Recipient.communication_id
    if not _on_postgresql(session):  # SQLite
        # Grouped by the id itself, SQLite (no statistics) reads every recipient ever, by the
        # index in the id's order, rather than the month's by the time accepted (36 -> 12 ms
        # at 100k emails); grouped by an expression, it takes the time's index. PostgreSQL
        # keeps the id: an expression there would hash every visible email instead.
        email_id = email_id + sa.literal_column("0")
    per_email = (
        sa.select(
            email_id.label("communication_id"),
            sa.func.count().label("delivered"),
            sa.func.count().filter(Recipient.status == DeliveryStatus.BOUNCED).label("bounced"),
        )
        .where(
            Recipient.accepted_at >= since,
            Recipient.status.in_([DeliveryStatus.ACCEPTED, DeliveryStatus.BOUNCED]),
        )
        .group_by(email_id)
        .subquery()
    )
    delivered, bounced = session.execute(
        sa.select(sa.func.sum(per_email.c.delivered), sa.func.sum(per_email.c.bounced)).where(
            sa.exists().where(Communication.id == per_email.c.communication_id, visible)
        )
    ).one()
    return int(delivered or 0), int(bounced or 0)


def dashboard(session: Session, visible, zone: str, now: datetime | None = None) -> Dashboard:
    """The dashboard over the emails for which `visible` (a condition on Communication rows,
    e.g. models.access.email_visible) holds."""
    now = now or datetime.now(UTC)
    tz = ZoneInfo(zone)
    settled_since = now - SETTLED_WINDOW
    # 30 local days back, plus a day for the zone's offset.
    quarters = _sent_quarters(session, visible, now - timedelta(days=31))
    hours, days = _series(quarters, tz, now)
    latencies = _latencies(session, visible, now)
    delivered, bounced = _delivered_and_bounced(session, visible, now - timedelta(days=30))
    awaiting, awaiting_count = _awaiting(session, visible, now)
    return Dashboard(
        by_state=_by_state(session, visible, settled_since),
        settled_since=settled_since,
        sent_per_hour=hours,
        sent_per_day=days,
        latency_p50=_percentile(latencies, 0.50),
        latency_p95=_percentile(latencies, 0.95),
        latency_sample=len(latencies),
        recipients_delivered=delivered,
        recipients_bounced=bounced,
        awaiting=awaiting,
        awaiting_count=awaiting_count,
    )


# The home page lists this many of each contract's latest claims (the Claims list has all).
CLAIMS_PER_CONTRACT = 6


def latest_claims(
    session: Session, contract_ids: list[int], per_contract: int = CLAIMS_PER_CONTRACT
) -> tuple[dict[int, list[ProgressClaim]], dict[int, int]]:
    """Each contract's latest claims, newest first, and how many claims it has: two queries,
    reading only those claims however many years of them there are."""
    ranked = (
        sa.select(
            ProgressClaim.id,
            sa.func.row_number()
            .over(partition_by=ProgressClaim.head_contract_id, order_by=ProgressClaim.number.desc())
            .label("rank"),
        )
        .where(ProgressClaim.head_contract_id.in_(contract_ids))
        .subquery()
    )
    latest: dict[int, list[ProgressClaim]] = {}
    for claim in session.scalars(
        sa.select(ProgressClaim)
        .join(ranked, ranked.c.id == ProgressClaim.id)
        .where(ranked.c.rank <= per_contract)
        .order_by(ProgressClaim.number.desc())
    ):
        latest.setdefault(claim.head_contract_id, []).append(claim)
    counts = dict(
        session.execute(
            sa.select(ProgressClaim.head_contract_id, sa.func.count(ProgressClaim.id))
            .where(ProgressClaim.head_contract_id.in_(contract_ids))
            .group_by(ProgressClaim.head_contract_id)
        ).all()
    )
    return latest, counts
