"""Who may see and do what: project visibility and billing-tool permissions."""

from sqlalchemy import Select, select

from models.claim import ProgressClaim
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
