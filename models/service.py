"""When a claim counts as served: the first time a mail server that the claim was addressed to
accepted a claim email of it, for a recipient that has not bounced since.

Which recipients serve: the To recipients of a claim email (kind "claim") who are in the
project's directory on the client's side or as its consultant. The Acts serve a payment claim
on the person liable to pay it (NSW s 13(1), NZ s 20(1) and the like), at an address
it nominated; the people a claim is addressed to on the client's side are ClaimPost's nearest
record of that. Copies (Cc), blind copies and the contractor's own people never serve it: a
claim emailed only to ourselves is not served on anyone.

A recipient serves from the SMTP 250 its server gave our DATA (Recipient.accepted_at, our
clock, workers/smtp.py) until a bounce for it comes back (Recipient.status "bounced"): a claim
whose only serving recipient bounced is not served, and one served on two people whose first
bounced is served at the second's acceptance. Computed from the delivery record each time it
is asked, so it can never disagree with it. A claim re-sent after revision keeps its first
service (the Acts' "claim" is the claim, not the email); that is not modelled further.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.claim import ProgressClaim
from models.communication import (
    Communication,
    DeliveryStatus,
    EmailKind,
    Recipient,
    RecipientKind,
)
from models.contract import HeadContract
from models.deadlines import Service, service_of
from models.project import Contact, Side

SERVING_SIDES = tuple(str(side) for side in Side if side.may_approve_claims)


def as_utc(value: datetime) -> datetime:
    """A stored time, timezone-aware (SQLite hands them back without their zone, in UTC)."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ClaimService:
    """The service of one claim: which recipient's server accepted which email, when, what it
    said, and the rule that makes that the time of service."""

    claim_id: int
    email_id: int
    recipient_id: int
    recipient_name: str
    recipient_email: str
    accepted_at: datetime  # UTC
    smtp_reply: str | None
    queue_id: str | None
    service: Service  # in the jurisdiction's local time, with its basis in words

    @property
    def basis(self) -> str:
        """Why the claim counts as served then, in words."""
        reply = f' ("{self.smtp_reply}")' if self.smtp_reply else ""
        return (
            f"{self.recipient_name or self.recipient_email} <{self.recipient_email}>: the mail "
            f"server answered 250 to email #{self.email_id}{reply}. {self.service.basis}"
        )


def _serving(*columns) -> Select:
    """The recipients whose acceptance serves their claim (see the module's note)."""
    return (
        select(*columns)
        .select_from(Recipient)
        .join(Communication, Recipient.communication_id == Communication.id)
        .join(Contact, Recipient.contact_id == Contact.id)
        .where(
            Communication.kind == EmailKind.CLAIM,
            Recipient.kind == RecipientKind.TO,
            Recipient.status == DeliveryStatus.ACCEPTED,
            Recipient.accepted_at.is_not(None),
            Contact.side.in_(SERVING_SIDES),
        )
    )


def served_claim_ids(since: datetime | None = None) -> Select:
    """The ids of the claims served (by an acceptance since `since`, when given)."""
    query = _serving(Communication.claim_id)
    return query if since is None else query.where(Recipient.accepted_at >= since)


def services_of(session: Session, claim_ids: Iterable[int]) -> dict[int, ClaimService]:
    """The service of each of the claims that is served (claims not served are left out).
    The database finds each claim's first acceptance (from the index of an email's
    recipients) and reads only the recipients accepted at that moment: a claim emailed
    thousands of times is still a row or two."""
    ids = list(claim_ids)
    if not ids:
        return {}
    first = (
        _serving(Communication.claim_id, func.min(Recipient.accepted_at).label("at"))
        .where(Communication.claim_id.in_(ids))
        .group_by(Communication.claim_id)
        # At most a row per claim asked: said, so that PostgreSQL looks the few moments up by
        # the index on accepted_at rather than hashing every recipient to join them.
        .limit(len(ids))
        .subquery()
    )
    rows = session.execute(
        _serving(
            Communication.claim_id,
            HeadContract.jurisdiction,
            Recipient.communication_id,
            Recipient.id,
            Recipient.name,
            Recipient.email,
            Recipient.accepted_at,
            Recipient.smtp_reply,
            Recipient.queue_id,
        )
        .join(
            first,
            (first.c.claim_id == Communication.claim_id) & (first.c.at == Recipient.accepted_at),
        )
        .join(ProgressClaim, ProgressClaim.id == Communication.claim_id)
        .join(HeadContract, HeadContract.id == ProgressClaim.head_contract_id)
        .order_by(Communication.claim_id, Recipient.id)
    ).all()
    services: dict[int, ClaimService] = {}
    for claim_id, jurisdiction, email_id, recipient_id, name, address, at, reply, queue in rows:
        if claim_id in services:
            continue  # of those accepted at the same moment, the first recorded serves it
        accepted_at = as_utc(at)
        services[claim_id] = ClaimService(
            claim_id=claim_id,
            email_id=email_id,
            recipient_id=recipient_id,
            recipient_name=name,
            recipient_email=address,
            accepted_at=accepted_at,
            smtp_reply=reply,
            queue_id=queue,
            service=service_of(accepted_at, jurisdiction),
        )
    return services


def service_of_claim(session: Session, claim: ProgressClaim) -> ClaimService | None:
    """The claim's service, or None while no serving recipient's server has accepted it."""
    return services_of(session, [claim.id]).get(claim.id)
