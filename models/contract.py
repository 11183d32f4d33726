"""Head contracts: the schedule of values and the change orders (variations) that amend it."""

from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Money, Percent, Str80, Str200
from models.money import BillableLine
from models.project import Contact, Project


class ContractStatus(StrEnum):
    """Where a head contract stands; claims need an approved or complete one."""

    DRAFT = "draft"
    APPROVED = "approved"
    COMPLETE = "complete"


class ChangeOrderStatus(StrEnum):
    """Where a change order stands; only approved ones change the contract sum."""

    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class HeadContract(Base):
    """The contract between the head contractor and its client, priced by a schedule of values."""

    __tablename__ = "head_contract"
    __table_args__ = (UniqueConstraint("project_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    number: Mapped[Str80]
    title: Mapped[Str200]
    client_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    status: Mapped[str] = mapped_column(String(20), default=ContractStatus.DRAFT)
    retention_work_pct: Mapped[Percent] = mapped_column(default=Decimal("0"))
    retention_materials_pct: Mapped[Percent] = mapped_column(default=Decimal("0"))
    # Whose payment law the contract is under (models/statutory.py): it decides the
    # statement each claim carries. "none" when no Act applies or it is not known.
    jurisdiction: Mapped[str] = mapped_column(String(10), default="none", server_default="none")
    # The contract's own periods, where shorter than the Act's (models/deadlines.py RULES; the
    # caps are checked by models/clock.py contract_period_problems). None: the Act's period.
    payment_schedule_business_days: Mapped[int | None]
    payment_due_business_days: Mapped[int | None]

    project: Mapped[Project] = relationship(back_populates="head_contracts")
    client_contact: Mapped[Contact | None] = relationship()
    lines: Mapped[list["ContractLine"]] = relationship(
        back_populates="head_contract",
        order_by="ContractLine.position",
        cascade="all, delete-orphan",
    )
    change_orders: Mapped[list["ChangeOrder"]] = relationship(
        back_populates="head_contract", order_by="ChangeOrder.id", cascade="all, delete-orphan"
    )
    claims: Mapped[list["ProgressClaim"]] = relationship(  # noqa: F821 (models/claim.py)
        back_populates="head_contract",
        order_by="ProgressClaim.number",
        cascade="all, delete-orphan",
    )

    @property
    def accepts_claims(self) -> bool:
        return self.status in (ContractStatus.APPROVED, ContractStatus.COMPLETE)

    def billable_lines(self) -> tuple[list[BillableLine], list[BillableLine]]:
        """The schedule of values and the approved change orders, as the money math takes them."""
        sov = [
            BillableLine(line.item, line.description, line.scheduled_value) for line in self.lines
        ]
        approved = [
            BillableLine(co.number, co.description, co.amount)
            for co in self.change_orders
            if co.status == ChangeOrderStatus.APPROVED
        ]
        return sov, approved

    def billed_items_missing(self) -> set[str]:
        """Items that claims bill but that are no longer a line or an approved change order.

        Removing or un-approving them would make every later claim's figures unreadable.
        """
        sov, change_orders = self.billable_lines()
        billable = {line.item for line in sov + change_orders}
        billed = {
            line.item
            for claim in self.claims
            for line in claim.lines
            if line.work_this_period or line.materials_stored
        }
        return billed - billable

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class ContractLine(Base):
    """One line of the schedule of values."""

    __tablename__ = "contract_line"
    __table_args__ = (UniqueConstraint("head_contract_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    head_contract_id: Mapped[int] = mapped_column(ForeignKey("head_contract.id"))
    position: Mapped[int] = mapped_column(default=0)
    item: Mapped[Str80]
    description: Mapped[Str200]
    scheduled_value: Mapped[Money]

    head_contract: Mapped[HeadContract] = relationship(back_populates="lines")

    def __str__(self) -> str:
        return f"{self.item} {self.description}"


class ChangeOrder(Base):
    """A variation to the contract; approved ones add (or deduct) money and are billed as lines."""

    __tablename__ = "change_order"
    __table_args__ = (UniqueConstraint("head_contract_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    head_contract_id: Mapped[int] = mapped_column(ForeignKey("head_contract.id"))
    number: Mapped[Str80]
    description: Mapped[Str200]
    amount: Mapped[Money]
    status: Mapped[str] = mapped_column(String(20), default=ChangeOrderStatus.DRAFT)

    head_contract: Mapped[HeadContract] = relationship(back_populates="change_orders")

    def __str__(self) -> str:
        return f"{self.number} {self.description}"
