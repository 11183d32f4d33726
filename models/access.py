"""Who may see and do what: project visibility and billing-tool permissions."""

from sqlalchemy import Select, or_, select

from models.claim import ProgressClaim
from models.communication import Communication, Recipient
from models.company import User
from models.contract import HeadContract
from models.errors import PermissionDenied
from models.project import BillingPermission, Project, ProjectMember


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


def visible_projects(user: User) -> Select[tuple[Project]]:
    """Projects the user may see: all of the company's for admins, else their memberships."""
    query = select(Project).where(Project.company_id == user.company_id)
    if user.is_admin:
        return query
    member_of = select(ProjectMember.project_id).where(
        ProjectMember.user_id == user.id, ProjectMember.permission != BillingPermission.NONE
    )
    return query.where(Project.id.in_(member_of))


def visible_claims(user: User) -> Select[tuple[ProgressClaim]]:
    """Claims on the projects the user may see."""
    project_ids = visible_projects(user).with_only_columns(Project.id)
    return (
        select(ProgressClaim)
        .join(ProgressClaim.head_contract)
        .where(HeadContract.project_id.in_(project_ids))
        .order_by(HeadContract.project_id, HeadContract.number, ProgressClaim.number)
    )


def can_see_email(user: User, email: Communication) -> bool:
    """Private emails: only their sender, their recipients and the project's billing admins."""
    permission = project_permission(user, email.claim.project)
    if not permission.allows(BillingPermission.READ_ONLY):
        return False
    return (
        not email.private
        or permission.allows(BillingPermission.ADMIN)
        or email.sender_id == user.id
        or user.email.lower() in {r.email for r in email.recipients}
    )


def visible_emails(user: User) -> Select[tuple[Communication]]:
    """The emails `user` may see, by the same rule as `can_see_email`, as one query."""
    visible = visible_projects(user).with_only_columns(Project.id)
    administered = (
        visible
        if user.is_admin
        else select(ProjectMember.project_id).where(
            ProjectMember.user_id == user.id, ProjectMember.permission == BillingPermission.ADMIN
        )
    )
    addressed = select(Recipient.communication_id).where(Recipient.email == user.email.lower())
    return (
        select(Communication)
        .join(Communication.claim)
        .join(ProgressClaim.head_contract)
        .where(HeadContract.project_id.in_(visible))
        .where(
            or_(
                ~Communication.private,
                Communication.sender_id == user.id,
                Communication.id.in_(addressed),
                HeadContract.project_id.in_(administered),
            )
        )
        .order_by(Communication.id.desc())
    )


def may_see_bcc(user: User, email: Communication) -> bool:
    """Blind copies are blind: only the sender and the project's billing admins see them."""
    return email.sender_id == user.id or project_permission(user, email.claim.project).allows(
        BillingPermission.ADMIN
    )
