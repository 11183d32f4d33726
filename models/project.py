"""Projects, their directory of people, and which users may work on them."""

from enum import StrEnum

from sqlalchemy import ForeignKey, Select, String, UniqueConstraint, false, func, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Email, Str80, Str200
from models.company import Company, User


class BillingPermission(StrEnum):
    """A person's permission on the billing tool, weakest first."""

    NONE = "none"
    READ_ONLY = "read_only"
    STANDARD = "standard"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(BillingPermission).index(self)

    def allows(self, needed: "BillingPermission") -> bool:
        """Whether this permission is at least `needed`."""
        return self.rank >= needed.rank


class Side(StrEnum):
    """Which party of the contract a directory person works for. Only the client's side (and
    consultants it appoints to certify) may be named to approve claims; the contractor's own
    people and its subcontractors never decide a claim."""

    CLIENT = "client"
    CONTRACTOR = "contractor"
    SUBCONTRACTOR = "subcontractor"
    CONSULTANT = "consultant"

    @property
    def may_approve_claims(self) -> bool:
        return self in (Side.CLIENT, Side.CONSULTANT)


class Project(Base):
    """A construction project of a company."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"))
    name: Mapped[Str200]
    number: Mapped[Str80]

    company: Mapped[Company] = relationship()
    directory: Mapped[list["Contact"]] = relationship(
        back_populates="project", order_by="Contact.name", cascade="all, delete-orphan"
    )
    members: Mapped[list["ProjectMember"]] = relationship(
        back_populates="project", cascade="all, delete-orphan"
    )
    head_contracts: Mapped[list["HeadContract"]] = relationship(  # noqa: F821 (models/contract.py)
        back_populates="project", order_by="HeadContract.number", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Contact(Base):
    """A person in the project directory: the contractor's staff and the client's people."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("project_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    name: Mapped[Str200]
    email: Mapped[Email]
    company: Mapped[Str200] = mapped_column(default="")
    permission: Mapped[str] = mapped_column(String(20), default=BillingPermission.NONE)
    side: Mapped[str] = mapped_column(String(20), default=Side.CLIENT, server_default="client")
    # Named by an admin as an approver of the project's claims (beside each contract's client
    # contact): only approvers' written answers decide a claim.
    may_approve: Mapped[bool] = mapped_column(default=False, server_default=false())

    project: Mapped[Project] = relationship(back_populates="directory")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class ProjectMember(Base):
    """A user's membership of a project, with their permission on the billing tool."""

    __tablename__ = "project_member"
    __table_args__ = (UniqueConstraint("project_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    permission: Mapped[str] = mapped_column(String(20), default=BillingPermission.READ_ONLY)

    project: Mapped[Project] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


def member_in_directory(project: Project, user: User, permission: str) -> Contact:
    """Members are in the directory too, so they can be copied on the claim emails they send
    (the compose form copies the sender by default)."""
    email = user.email.lower()
    for contact in project.directory:
        if contact.email == email:
            # A login of the company is the contractor's, whatever the directory said.
            contact.side, contact.may_approve = Side.CONTRACTOR, False
            return contact
    contact = Contact(
        name=user.name,
        email=email,
        company=project.company.name,
        permission=permission,
        side=Side.CONTRACTOR,
    )
    project.directory.append(contact)
    return contact


def search_directory(project_id: int, q: str, limit: int = 20) -> Select[tuple[Contact]]:
    """Contacts of the project whose name, e-mail or company contains `q` (any case), by name."""
    query = select(Contact).where(Contact.project_id == project_id)
    q = q.strip()
    if q:
        query = query.where(
            or_(
                Contact.name.icontains(q, autoescape=True),
                Contact.email.icontains(q, autoescape=True),
                Contact.company.icontains(q, autoescape=True),
            )
        )
    return query.order_by(func.lower(Contact.name), Contact.id).limit(limit)
