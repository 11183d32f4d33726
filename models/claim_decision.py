"""Recording the client's written decision on a claim, and applying it to the claim's status."""

from models.base import utcnow
from models.claim import ClaimStatus, change_claim_status
from models.decision import APPROVED, REJECTED
from models.errors import DomainError
from models.inbound import ClaimDecision, Reply

# The status each outcome moves the claim to.
OUTCOME_STATUS = {APPROVED: ClaimStatus.APPROVED, REJECTED: ClaimStatus.REVISE_AND_RESUBMIT}


def record_decision(reply: Reply) -> ClaimDecision:
    """The claim's written decision from a verified reply; applied at once if the company says
    decisions move the status, else it waits for a billing admin's Apply decision."""
    claim = reply.communication.claim
    decision = ClaimDecision(
        claim=claim,
        reply=reply,
        outcome=reply.decision,
        reason=reply.reason,
        person_name=reply.from_name or reply.from_address,
        person_email=reply.from_address,
        # Our clock, not the sender's Date header: written decisions start and stop statutory
        # clocks, so they must not be back-datable.
        decided_at=reply.inbound.received_at,
    )
    if claim.project.company.decisions_move_status:
        try:
            apply_decision(decision, "ClaimPost (company setting)")
        except DomainError:
            pass  # the claim cannot take that status now; an admin sees the decision unapplied
    return decision


def apply_decision(decision: ClaimDecision, actor: str) -> None:
    """Move the claim to the decision's status (via Under Review from a draft)."""
    if decision.applied_at is not None:
        raise DomainError("This decision has already been applied.")
    claim, target = decision.claim, OUTCOME_STATUS[decision.outcome]
    if ClaimStatus(claim.status) == ClaimStatus.DRAFT:
        change_claim_status(claim, ClaimStatus.UNDER_REVIEW)
    change_claim_status(claim, target)
    decision.applied_at = utcnow()
    decision.applied_by = actor
