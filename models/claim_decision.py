"""Recording the client's written decision on a claim, and applying it to the claim's status."""

from sqlalchemy import and_, exists, or_, update
from sqlalchemy.orm import Session, aliased

from models.approvers import NOT_AUTHENTICATED, standing
from models.base import utcnow
from models.claim import ClaimStatus, may_move_claim_status, move_claim_status
from models.decision import APPROVED, REJECTED, SCHEDULED
from models.errors import DomainError
from models.inbound import ClaimDecision, Reply

# The status each outcome moves the claim to: a payment schedule certifies the claim, at the
# amount scheduled.
OUTCOME_STATUS = {
    APPROVED: ClaimStatus.APPROVED,
    SCHEDULED: ClaimStatus.APPROVED,
    REJECTED: ClaimStatus.REVISE_AND_RESUBMIT,
}
OUTCOME_WORDS = {APPROVED: "Approved", SCHEDULED: "Scheduled", REJECTED: "Rejected"}


def record_decision(
    session: Session, reply: Reply, confirmed_by: str | None = None
) -> ClaimDecision:
    """Add the claim's written decision from a verified reply; applied at once if the company
    says decisions move the status, else it waits for a billing admin's Apply decision."""
    claim = reply.communication.claim
    decision = ClaimDecision(
        claim=claim,
        reply=reply,
        outcome=reply.decision,
        reason=reply.reason,
        scheduled_amount=reply.scheduled_amount if reply.decision == SCHEDULED else None,
        person_name=reply.from_name or reply.from_address,
        person_email=reply.from_address,
        # Our clock, not the sender's Date header: written decisions start and stop statutory
        # clocks, so they must not be back-datable.
        decided_at=reply.received_at,
        confirmed_by=confirmed_by,
    )
    session.add(decision)
    session.flush()
    if claim.project.company.decisions_move_status:
        try:
            with session.begin_nested():
                apply_decision(session, decision, "ClaimPost (company setting)")
        except DomainError:
            pass  # the claim cannot take that status now; an admin sees the decision unapplied
    return decision


def can_apply(decision: ClaimDecision) -> bool:
    """Whether applying the decision would move its claim (not applied yet, and the claim's
    status can still go there)."""
    return decision.applied_at is None and may_move_claim_status(decision.claim, *_path(decision))


def _path(decision: ClaimDecision) -> list[ClaimStatus]:
    """The statuses the decision moves its claim through: via Under Review from a draft."""
    target = OUTCOME_STATUS[decision.outcome]
    if ClaimStatus(decision.claim.status) == ClaimStatus.DRAFT:
        return [ClaimStatus.UNDER_REVIEW, target]
    return [target]


def apply_decision(
    session: Session, decision: ClaimDecision, actor: str, seen: str | None = None
) -> None:
    """Move the claim to the decision's status (via Under Review from a draft), once, and only
    while it is the claim's latest decision: two decisions (or a decision and a click)
    applied at the same moment cannot both win, and a page showing an older state (`seen`,
    the status it showed) changes nothing."""
    steps = _path(decision)
    now = utcnow()
    later = aliased(ClaimDecision)
    marked = session.execute(
        update(ClaimDecision)
        .where(
            ClaimDecision.id == decision.id,
            ClaimDecision.applied_at.is_(None),
            ~exists().where(
                later.claim_id == ClaimDecision.claim_id,
                or_(
                    later.decided_at > ClaimDecision.decided_at,
                    and_(later.decided_at == ClaimDecision.decided_at, later.id > ClaimDecision.id),
                ),
            ),
        )
        .values(applied_at=now, applied_by=actor)
    )
    if marked.rowcount != 1:
        session.expire(decision)
        raise DomainError(
            "This decision has already been applied, or a later decision supersedes it."
        )
    certified = decision.scheduled_amount if decision.outcome == SCHEDULED else None
    move_claim_status(
        session,
        decision.claim,
        *steps,
        seen=seen,
        actor=actor,
        note=f"{OUTCOME_WORDS[decision.outcome]} in writing by {decision.person_name}",
        **({"certified_amount": certified} if decision.outcome != REJECTED else {}),
    )


def confirm_reading(session: Session, reply: Reply, actor: str) -> ClaimDecision:
    """A billing admin confirms, as the client's written decision, what an approver's reply
    reads as, when only the sender's authentication held it back; once."""
    if reply.read_as is None or reply.undecided_reason != NOT_AUTHENTICATED:
        raise DomainError(
            "Only a reply held back because its sender was not authenticated can be confirmed."
        )
    who = standing(session, reply.communication, reply.from_address)
    if not who.decides:
        raise DomainError(f"{reply.from_name} cannot decide this claim: {who.why_not}.")
    confirmed = session.execute(
        update(Reply)
        .where(Reply.id == reply.id, Reply.decision.is_(None))
        .values(decision=reply.read_as, undecided_reason="")
        .execution_options(synchronize_session=False)
    )
    if confirmed.rowcount != 1:
        raise DomainError("This reply has been confirmed already.")
    session.refresh(reply)
    return record_decision(session, reply, confirmed_by=actor)
