"""Who may see and do what, in one place: every page, list, count, export and API answer of
ClaimPost scopes its query through these functions.

- A user sees the projects of their company they are a member of (company admins: all of
  their company's); claims, contracts, the directory and emails follow their project.
- Private emails: only their sender, their recipients and the project's billing admins.
  Bcc recipients: only the sender and billing admins — in every list, error and history line.
- Received mail belongs to the company of the email it matched. Unmatched mail belongs to no
  company: it is shown to the admins of the one company whose directories name its sender,
  and, where no single company can be named, only to site operators.
"""

import re

from sqlalchemy import Select, distinct, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from models.claim import ProgressClaim
from models.communication import CLAIM_TAB_KINDS, Communication, Recipient, RecipientKind
from models.company import User
from models.contract import HeadContract
from models.errors import PermissionDenied
from models.inbound import InboundMessage
from models.project import BillingPermission, Contact, Project, ProjectMember


def project_permission(user: User, project: Project) -> BillingPermission:
    """The user's billing-tool permission on the project; company admins are admins everywhere."""
    if project.company_id != user.company_id:
        return BillingPermission.NONE
    if user.is_admin:
        return BillingPermission.ADMIN
    for member in project.members:
        if member.user_id == user.id:
            return BillingPermission(member.permission)
    return BillingPermission.NONE


def require(user: User, project: Project, needed: BillingPermission) -> None:
    """Raise PermissionDenied unless the user has at least `needed` on the project."""
    if not project_permission(user, project).allows(needed):
        raise PermissionDenied(
            f"This needs {needed.value.replace('_', ' ')} permission on project {project.number}."
        )


def projects_with(user: User, needed: BillingPermission) -> Select[tuple[Project]]:
    """The projects of the user's company where they have at least `needed`."""
    query = select(Project).where(Project.company_id == user.company_id)
    if user.is_admin:
        return query
    allowed = [p.value for p in BillingPermission if p.allows(needed)]
    member_of = select(ProjectMember.project_id).where(
        ProjectMember.user_id == user.id, ProjectMember.permission.in_(allowed)
    )
    return query.where(Project.id.in_(member_of))


def visible_projects(user: User) -> Select[tuple[Project]]:
    """Projects the user may see: all of the company's for admins, else their memberships."""
    return projects_with(user, BillingPermission.READ_ONLY)


def project_ids(user: User, needed: BillingPermission = BillingPermission.READ_ONLY):
    """The ids of projects_with(user, needed), as a subquery for IN (...)."""
    return projects_with(user, needed).with_only_columns(Project.id)


def visible_claims(user: User) -> Select[tuple[ProgressClaim]]:
    """Claims on the projects the user may see."""
    return (
        select(ProgressClaim)
        .join(ProgressClaim.head_contract)
        .where(HeadContract.project_id.in_(project_ids(user)))
        .order_by(HeadContract.project_id, HeadContract.number, ProgressClaim.number)
    )


def _claims_of(user: User, needed: BillingPermission = BillingPermission.READ_ONLY):
    """The ids of the claims on projects where the user has at least `needed` (few: a row
    condition on them reads each email's own claim id, with no join)."""
    return (
        select(ProgressClaim.id)
        .join(ProgressClaim.head_contract)
        .where(HeadContract.project_id.in_(project_ids(user, needed)))
    )


def email_visible(user: User, kinds=CLAIM_TAB_KINDS):
    """The condition, on a Communication row, that `user` may see it: on a project they may
    see, and if private, only for its sender, its recipients and the project's billing
    admins; by default only the claim emails and reminders (the client page's codes and
    confirmations are the Outbox's, for billing admins). Asked per row, so a list reads its
    newest rows until it is full, instead of gathering every visible email first."""
    condition = Communication.claim_id.in_(_claims_of(user))
    # A company admin is a billing admin of every project of the company (project_permission),
    # so sees its private emails: the same condition, without asking it per row. (PostgreSQL
    # costs that question's subplans on every row it would look up one by one, and would
    # rather hash every email of the company: 100k emails read for a dashboard figure of 6,000
    # recipients.)
    if not user.is_admin:
        # An alias of its own, so the condition also holds inside a query that reads recipients.
        recipient = aliased(Recipient)
        addressed = exists().where(
            recipient.communication_id == Communication.id, recipient.email == user.email.lower()
        )
        condition &= or_(
            ~Communication.private,
            Communication.sender_id == user.id,
            addressed,
            Communication.claim_id.in_(_claims_of(user, BillingPermission.ADMIN)),
        )
    if kinds is not None:
        condition &= Communication.kind.in_([str(k) for k in kinds])
    return condition


def visible_emails(user: User, kinds=CLAIM_TAB_KINDS) -> Select[tuple[Communication]]:
    """The emails `user` may see (email_visible), newest first."""
    return select(Communication).where(email_visible(user, kinds)).order_by(Communication.id.desc())


def visible_email(
    session: Session, user: User, email_id: int | None, kinds=CLAIM_TAB_KINDS
) -> Communication | None:
    """One email if `user` may see it (by email_visible), else None."""
    if email_id is None:
        return None
    return session.scalar(visible_emails(user, kinds).where(Communication.id == email_id))


def email_administered(user: User):
    """The condition, on a Communication row, that it is an email (of any kind) of a project
    the user is a billing admin of: the Outbox's rows. Correlated (an EXISTS on the email's own
    claim), so the Outbox reads its newest emails by id until the page is full; as an IN list,
    SQLite would gather and sort every one of a company's emails first."""
    claims = _claims_of(user, BillingPermission.ADMIN)
    return claims.where(ProgressClaim.id == Communication.claim_id).exists()


def administered_emails(user: User) -> Select[tuple[Communication]]:
    """Every email, of every kind, of the projects the user is a billing admin of."""
    return select(Communication).where(email_administered(user))


def may_see_bcc(user: User, email: Communication) -> bool:
    """Blind copies are blind: only the sender and the project's billing admins see them."""
    return email.sender_id == user.id or project_permission(user, email.claim.project).allows(
        BillingPermission.ADMIN
    )


BCC_STAND_IN = "a Bcc recipient"


def hide_bcc(user: User, email: Communication, text: str | None) -> str | None:
    """`text` (an error, a history note, a bounce) as `user` may read it: each Bcc address it
    names is replaced, unless the user may see Bcc recipients."""
    if not text or may_see_bcc(user, email):
        return text
    for recipient in email.recipients:
        if recipient.kind == RecipientKind.BCC:
            text = re.sub(re.escape(recipient.email), BCC_STAND_IN, text, flags=re.IGNORECASE)
    return text


def _owners_of_sender():
    """How many companies' directories name the sender of a received message."""
    return (
        select(func.count(distinct(Project.company_id)))
        .select_from(Contact)
        .join(Contact.project)
        .where(Contact.email == InboundMessage.from_address)
        .scalar_subquery()
    )


def inbound_visible(user: User):
    """The condition, on an InboundMessage row, that the user may triage it. Company admins:
    mail matched to emails they may see, and unmatched mail whose sender only their company's
    directories name. Site operators: also the unmatched mail no single company can be said
    to own (its sender is in no directory, or in several companies'). Everyone else: none."""
    unmatched = InboundMessage.communication_id.is_(None)
    owners = _owners_of_sender()
    shown = []
    if user.is_admin:
        ours = exists().where(
            Contact.email == InboundMessage.from_address,
            Contact.project_id.in_(select(Project.id).where(Project.company_id == user.company_id)),
        )
        matched = exists().where(
            Communication.id == InboundMessage.communication_id,
            # Adds nothing to the condition (a null id matches no email), but PostgreSQL can no
            # longer turn this EXISTS into a hash of every email the user may see, which it
            # chooses by a cost that ignores the list's LIMIT: 100k emails hashed to show 20
            # messages (120 ms), where asked row by row the newest 20 cost under a millisecond.
            InboundMessage.communication_id.is_not(None),
            email_visible(user, kinds=None),
        )
        shown += [matched, unmatched & ours & (owners == 1)]
    if user.is_site_operator:
        shown.append(unmatched & (owners != 1))
    return or_(*shown) if shown else false()


def visible_inbound(user: User) -> Select[tuple[InboundMessage]]:
    """The received mail the user may triage (inbound_visible)."""
    return select(InboundMessage).where(inbound_visible(user))


def operates_email(user: User, email: Communication) -> bool:
    """Whether the user may Retry and Cancel the email and read the technical detail of its
    failures: a billing admin of its project (company admins are, everywhere) — the Outbox's
    people, as email_administered says for a query."""
    return project_permission(user, email.claim.project).allows(BillingPermission.ADMIN)
