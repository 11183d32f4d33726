"""A claim's statutory clock: its service (models/service.py), the deadlines the Act sets from
it (models/deadlines.py) and whether the client's written answer met each of them.

A deadline is met when the claim's first written decision (a ClaimDecision: an approver's
emailed or web answer approving, scheduling or rejecting it) arrived by the end of its due
day, in the jurisdiction's time (our clock at receipt: Reply.received_at). That is what the
answer deadlines ask for: the payment schedule (AU), the response (NZ, NT) and the payment and
pay less notices (UK). The payment deadlines (payment due, final date for payment) are met by
paying, which ClaimPost does not record: their `met_at` stays None, and once the claim is
answered they are shown as not tracked rather than overdue.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from models.base import utcnow
from models.claim import ProgressClaim
from models.deadlines import (
    DUE_FIELD,
    RULES,
    SCHEDULE_FIELD,
    Deadline,
    business_days_left,
    deadlines_of,
)
from models.inbound import ClaimDecision
from models.service import ClaimService, as_utc, served_claim_ids, services_of

# What each kind of deadline is called on the page, in the email and in the evidence pack.
KIND_WORDS = {
    "payment_schedule": "Payment schedule",
    "response": "Response (payment schedule)",
    "payment_notice": "Payment notice",
    "pay_less_notice": "Pay less notice",
    "payment_due": "Payment due",
    "final_date_for_payment": "Final date for payment",
}
# The deadlines the client meets by answering in writing; the others by paying.
ANSWER_KINDS = frozenset({"payment_schedule", "response", "payment_notice", "pay_less_notice"})
# The longest a contract's own period may be where the Act sets no cap (a year of weekdays).
MAX_CONTRACT_DAYS = 260


@dataclass(frozen=True)
class ClockedDeadline:
    """One deadline of a claim with what the client did about it."""

    deadline: Deadline
    answered_at: datetime | None  # the claim's first written decision, whenever it came

    @property
    def kind(self) -> str:
        return self.deadline.kind

    @property
    def words(self) -> str:
        return KIND_WORDS[self.kind]

    @property
    def due(self) -> date:
        return self.deadline.due

    @property
    def basis(self) -> str:
        return self.deadline.basis

    @property
    def answers(self) -> bool:
        """Whether a written answer meets it (else only a payment does)."""
        return self.kind in ANSWER_KINDS

    @property
    def met_at(self) -> datetime | None:
        """When the answer that met it arrived (UTC), or None."""
        if not self.answers or self.answered_at is None:
            return None
        return self.answered_at if self._local_day(self.answered_at) <= self.due else None

    def _local_day(self, moment: datetime) -> date:
        zone = ZoneInfo(RULES[self.deadline.jurisdiction].time_zone)
        return moment.astimezone(zone).date()

    def days_left(self, today: date) -> int:
        """Counted days left as of `today` (0 on the day, negative once past)."""
        return business_days_left(self.deadline, today)

    def state(self, today: date) -> str:
        """met · late (answered after it) · overdue (past, no answer) · due_today · open ·
        not_tracked (a payment deadline of an answered claim)."""
        if self.met_at is not None:
            return "met"
        if self.answered_at is not None:
            return "late" if self.answers else "not_tracked"
        if today > self.due:
            return "overdue"
        return "due_today" if today == self.due else "open"


@dataclass(frozen=True)
class ClaimClock:
    """Everything the statutory clock of one claim says."""

    claim_id: int
    jurisdiction: str
    service: ClaimService | None
    answered_at: datetime | None
    deadlines: tuple[ClockedDeadline, ...]

    def today(self, now: datetime | None = None) -> date:
        """The date now in the jurisdiction's time (the days its Act counts)."""
        rules = RULES.get(self.jurisdiction)
        zone = ZoneInfo(rules.time_zone) if rules else ZoneInfo("UTC")
        return (now or utcnow()).astimezone(zone).date()

    def unmet(self, today: date) -> list[ClockedDeadline]:
        """The deadlines still to watch: open, due today or overdue (an unanswered claim)."""
        return [d for d in self.deadlines if d.state(today) in ("open", "due_today", "overdue")]


def first_decisions(session: Session, claim_ids: list[int]) -> dict[int, datetime]:
    """When each claim's first written decision arrived (UTC), for the claims that have one."""
    if not claim_ids:
        return {}
    rows = session.execute(
        select(ClaimDecision.claim_id, func.min(ClaimDecision.decided_at))
        .where(ClaimDecision.claim_id.in_(claim_ids))
        .group_by(ClaimDecision.claim_id)
    ).all()
    return {claim_id: as_utc(at) for claim_id, at in rows}


def clocks_of(session: Session, claims: list[ProgressClaim]) -> dict[int, ClaimClock]:
    """The clock of each claim (its contract is read for the jurisdiction and the periods)."""
    ids = [claim.id for claim in claims]
    services = services_of(session, ids)
    answered = first_decisions(session, ids)
    clocks = {}
    for claim in claims:
        contract = claim.head_contract
        service = services.get(claim.id)
        deadlines: tuple[ClockedDeadline, ...] = ()
        if service is not None:
            found = deadlines_of(
                contract.jurisdiction,
                service.service,
                payment_schedule_business_days=contract.payment_schedule_business_days,
                payment_due_business_days=contract.payment_due_business_days,
                period_end=claim.period_end,
            )
            deadlines = tuple(ClockedDeadline(d, answered.get(claim.id)) for d in found)
        clocks[claim.id] = ClaimClock(
            claim.id, contract.jurisdiction, service, answered.get(claim.id), deadlines
        )
    return clocks


def clock_of(session: Session, claim: ProgressClaim) -> ClaimClock:
    return clocks_of(session, [claim])[claim.id]


def served_unanswered(since: datetime | None = None):
    """The condition, on ProgressClaim rows, that the claim is served (since `since`, when
    given) and has no written decision: the claims whose clock is running."""
    decided = select(ClaimDecision.id).where(ClaimDecision.claim_id == ProgressClaim.id)
    return ProgressClaim.id.in_(served_claim_ids(since)) & ~decided.exists()


@dataclass(frozen=True)
class Watched:
    """A deadline for the dashboard: due within the next days, or overdue."""

    claim: ProgressClaim
    deadline: ClockedDeadline
    days_left: int
    state: str


# Served longer ago than this, a claim has no deadline left to watch or remind of: the longest
# period is a contract's own MAX_CONTRACT_DAYS business days (52 weeks of weekdays), plus at most
# about five weeks of public holidays and an Act's Christmas exclusion (Queensland's 22 December
# to 10 January is the longest), plus the UK's due date after the period's end. Tested against
# every jurisdiction's calendar (tests/test_statutory_clock.py).
LOOKBACK = timedelta(weeks=MAX_CONTRACT_DAYS // 5 + 6)

WATCH_SCANNED = 500  # the most recently served unanswered claims the dashboard looks at


def deadlines_to_watch(
    session: Session, claims_query, within: int = 5, now: datetime | None = None
) -> list[Watched]:
    """The unmet deadlines of the unanswered claims of `claims_query` (a select of
    ProgressClaim joined to its head contract, already scoped to what the user may see) that
    fall due in the next `within` counted days or have passed: overdue first, then soonest.
    Only claims served in the last LOOKBACK are looked at, by an index on the acceptance time,
    so years of history cost nothing."""
    since = (now or datetime.now(UTC)) - LOOKBACK
    claims = session.scalars(
        claims_query.where(served_unanswered(since))
        .options(contains_eager(ProgressClaim.head_contract))
        .order_by(None)
        .order_by(ProgressClaim.id.desc())
        .limit(WATCH_SCANNED)
    ).all()
    clocks = clocks_of(session, claims)
    watched = []
    for claim in claims:
        clock = clocks[claim.id]
        today = clock.today(now)
        for deadline in clock.unmet(today):
            left = deadline.days_left(today)
            state = deadline.state(today)
            if state == "overdue" or left <= within:
                watched.append(Watched(claim, deadline, left, state))
    return sorted(watched, key=lambda w: (w.state != "overdue", w.deadline.due, w.claim.id))


def contract_period_problems(
    jurisdiction: str,
    payment_schedule_business_days: int | None,
    payment_due_business_days: int | None,
) -> dict[str, str]:
    """What is wrong with a contract's own periods under its jurisdiction's Act, by field:
    a period no rule of the Act takes, or one longer than the Act allows (the caps in
    models/deadlines.py RULES, e.g. NSW s 14(4)(b): at most 10 business days)."""
    given = {SCHEDULE_FIELD: payment_schedule_business_days, DUE_FIELD: payment_due_business_days}
    rules = RULES.get(jurisdiction)
    problems = {}
    for field, days in given.items():
        if days is None:
            continue
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            problems[field] = "must be a whole number of days from 1"
            continue
        periods = [p for p in rules.periods if p.contract_field == field] if rules else []
        if not periods:
            problems[field] = f"takes no effect under {jurisdiction}: its Act sets no such period"
            continue
        unit = rules.calendar.unit
        for period in periods:
            cap = period.cap if period.cap is not None else MAX_CONTRACT_DAYS
            if days > cap:
                law = period.cap_section or f"{period.act} {period.section}"
                limit = f"{law} allows" if period.cap is not None else "ClaimPost takes"
                problems[field] = f"{days} {unit} is more than the {cap} {unit} {limit}"
    return problems
