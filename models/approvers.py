"""Who may decide a claim: explicit, never inferred from a name.

A contract's approvers are its client contact and the project's directory people an admin
marked "may approve claims" — and only people on the client's side or consultants it
appoints; the contractor's own logins and staff never decide, whatever the directory says.
An emailed decision counts only from an approver who was a To or Cc recipient of the email
answered (a Bcc recipient answering, or a subcontractor in the directory, decides nothing).
"""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.communication import Communication, RecipientKind
from models.company import User
from models.contract import HeadContract
from models.project import Contact, Side


def approvers(contract: HeadContract) -> list[Contact]:
    """The people whose written answer decides the contract's claims."""
    named = [contract.client_contact] if contract.client_contact is not None else []
    named += [c for c in contract.project.directory if c.may_approve]
    unique = {c.email: c for c in named if Side(c.side).may_approve_claims}
    return list(unique.values())


# Why a reading from an approver who is a recipient does not count, when the receiving mail
# server (TRUSTED_AUTHSERV_ID) could not authenticate the From domain: a person may confirm it.
NOT_AUTHENTICATED = "the receiving mail server did not authenticate the sender"


@dataclass(frozen=True)
class Standing:
    """Whether a person's answer to an email decides its claim, and if not, why not."""

    decides: bool
    why_not: str = ""


def standing(
    session: Session, email: Communication, address: str | None, *, by_email: bool = True
) -> Standing:
    """The standing of `address` answering `email` (the caller has verified the address: a
    recipient or directory person by email, a one-time code on the client page). By email,
    an approver must also have been a To or Cc recipient of the email answered."""
    address = (address or "").lower()
    contract = email.claim.head_contract
    if _is_contractors(session, contract, address):
        return Standing(False, "the contractor's own people do not decide a claim")
    if address not in {c.email for c in approvers(contract)}:
        return Standing(False, "not an approver of this contract")
    copied = {r.email for r in email.recipients if r.kind in (RecipientKind.TO, RecipientKind.CC)}
    if by_email and address not in copied:
        return Standing(False, "not a To or Cc recipient of this email")
    return Standing(True)


def _is_contractors(session: Session, contract: HeadContract, address: str) -> bool:
    """One of the contractor's logins, or a directory person on the contractor's side."""
    company_id = contract.project.company_id
    if session.scalar(
        select(User.id).where(User.company_id == company_id, func.lower(User.email) == address)
    ):
        return True
    return any(c.email == address and c.side == Side.CONTRACTOR for c in contract.project.directory)
