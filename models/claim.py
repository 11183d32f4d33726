"""Progress claims and the rules of making, editing and approving them."""

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from models.base import Base, Money, Str80, Timestamp, utcnow
from models.contract import HeadContract
from models.errors import ClaimRuleError
from models.money import ZERO, ClaimEntry, ClaimFigures, claim_figures, to_cents
from models.terminology import claim_subject, terms_for


class ClaimStatus(StrEnum):
    """Where a claim stands in the client's review."""

    DRAFT = "draft"
    UNDER_REVIEW = "under_review"
    REVISE_AND_RESUBMIT = "revise_and_resubmit"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        """The one spelling of the status: 'Draft', 'Under review', 'Revise and resubmit'."""
        return self.value.replace("_", " ").capitalize()


# Which status may follow which; an approved claim is final.
STATUS_TRANSITIONS: dict[ClaimStatus, set[ClaimStatus]] = {
    ClaimStatus.DRAFT: {ClaimStatus.UNDER_REVIEW},
    ClaimStatus.UNDER_REVIEW: {
        ClaimStatus.APPROVED,
        ClaimStatus.REVISE_AND_RESUBMIT,
        ClaimStatus.DRAFT,
    },
    ClaimStatus.REVISE_AND_RESUBMIT: {ClaimStatus.DRAFT, ClaimStatus.UNDER_REVIEW},
    ClaimStatus.APPROVED: set(),
}

EDITABLE_STATUSES = {ClaimStatus.DRAFT, ClaimStatus.REVISE_AND_RESUBMIT}


class ProgressClaim(Base):
    """One month's bill against a head contract (owner invoice, payment application)."""

    __tablename__ = "progress_claim"
    __table_args__ = (UniqueConstraint("head_contract_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    head_contract_id: Mapped[int] = mapped_column(ForeignKey("head_contract.id"))
    number: Mapped[int]
    period_start: Mapped[date]
    period_end: Mapped[date]
    status: Mapped[str] = mapped_column(String(30), default=ClaimStatus.DRAFT)
    # What the client certified when it scheduled less than the claim's payment due (a
    # payment schedule, a pay less notice); None once approved means approved in full.
    certified_amount: Mapped[Money | None]
    # No reminders for this claim, whatever the company's setting (models/reminders.py).
    reminders_off: Mapped[bool] = mapped_column(default=False, server_default=false())

    head_contract: Mapped[HeadContract] = relationship(back_populates="claims")
    lines: Mapped[list["ClaimLine"]] = relationship(
        back_populates="claim", order_by="ClaimLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["ClaimEvent"]] = relationship(
        back_populates="claim", order_by="ClaimEvent.id", cascade="all, delete-orphan"
    )

    @property
    def project(self):
        return self.head_contract.project

    @property
    def terms(self):
        return terms_for(self.project.company.terminology)

    @property
    def is_latest(self) -> bool:
        return self.head_contract.claims[-1] is self

    @property
    def is_editable(self) -> bool:
        """Only the latest claim of a contract, and only while it is a draft or sent back."""
        return self.is_latest and self.status in EDITABLE_STATUSES

    @property
    def subject(self) -> str:
        """The default subject line of this claim's emails, in the company's words."""
        return claim_subject(
            self.terms, self.number, self.head_contract.number, self.period_start, self.period_end
        )

    def entries(self) -> list[ClaimEntry]:
        return [
            ClaimEntry(line.item, line.work_this_period, line.materials_stored)
            for line in self.lines
        ]

    def figures(self) -> ClaimFigures:
        """The summary and line table of this claim, from this and the earlier claims, with
        the company's tax on the payment due."""
        contract = self.head_contract
        sov, change_orders = contract.billable_lines()
        claims = [c for c in contract.claims if c.number <= self.number]
        return claim_figures(
            sov,
            change_orders,
            contract.retention_work_pct,
            contract.retention_materials_pct,
            [c.entries() for c in claims],
            [c.certified_amount for c in claims],
            tax_rate_pct=self.project.company.tax_rate,
        )

    def __str__(self) -> str:
        return f"{self.terms.claim} #{self.number} ({self.head_contract.number})"


class ClaimEvent(Base):
    """Something that happened to a claim, with when and who: a status change and why, an
    evidence pack made (with its manifest's hash)."""

    __tablename__ = "claim_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("progress_claim.id"), index=True)
    at: Mapped[Timestamp] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200), default="system")
    status: Mapped[str | None] = mapped_column(String(30))  # the status it moved to, if any
    note: Mapped[str] = mapped_column(Text, default="")

    claim: Mapped[ProgressClaim] = relationship(back_populates="events")


class ClaimLine(Base):
    """What one claim bills on one line: work done this period and materials stored now."""

    __tablename__ = "claim_line"
    __table_args__ = (UniqueConstraint("claim_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("progress_claim.id"))
    item: Mapped[Str80]
    work_this_period: Mapped[Money] = mapped_column(default=Decimal("0"))
    materials_stored: Mapped[Money] = mapped_column(default=Decimal("0"))

    claim: Mapped[ProgressClaim] = relationship(back_populates="lines")


def open_claim(contract: HeadContract, period_start: date, period_end: date) -> ProgressClaim:
    """Start the next claim of a contract, enforcing contract status, the previous claim's
    approval and billing periods."""
    if not contract.accepts_claims:
        raise ClaimRuleError(
            f"Contract {contract.number} is {contract.status}; claims need an approved "
            "or complete contract."
        )
    if contract.claims and (latest := contract.claims[-1]).status != ClaimStatus.APPROVED:
        raise ClaimRuleError(
            f"Claim #{latest.number} is {ClaimStatus(latest.status).label}: the next claim can "
            "be opened once it is approved (it would lock it, and bill on its uncertified amount)."
        )
    if period_end < period_start:
        raise ClaimRuleError("The billing period ends before it starts.")
    for earlier in contract.claims:
        if period_start <= earlier.period_end and earlier.period_start <= period_end:
            raise ClaimRuleError(
                f"The billing period overlaps claim #{earlier.number} "
                f"({earlier.period_start} to {earlier.period_end})."
            )
        if earlier.period_start > period_start:
            raise ClaimRuleError(f"The billing period is before claim #{earlier.number}'s.")
    number = contract.claims[-1].number + 1 if contract.claims else 1
    claim = ProgressClaim(
        number=number, period_start=period_start, period_end=period_end, status=ClaimStatus.DRAFT
    )
    contract.claims.append(claim)
    return claim


def carry_forward_materials(claim: ProgressClaim) -> None:
    """Start a new claim with the materials the previous claim had stored on site: they stay
    stored until built in, and a claim that forgot them would claim them back as negative."""
    earlier = [c for c in claim.head_contract.claims if c.number < claim.number]
    if not earlier:
        return
    for line in earlier[-1].lines:
        if line.materials_stored:
            claim.lines.append(
                ClaimLine(
                    item=line.item, work_this_period=ZERO, materials_stored=line.materials_stored
                )
            )


def set_claim_lines(claim: ProgressClaim, amounts: dict[str, tuple[Decimal, Decimal]]) -> None:
    """Replace what the claim bills per item (work this period, materials stored).

    Refuses edits to a claim that is not editable, unknown items, negative materials and any
    line that would bill more than its scheduled value.
    """
    if not claim.is_editable:
        raise ClaimRuleError(
            f"Claim #{claim.number} cannot be edited: only the latest claim of a contract, "
            "while it is a draft or sent back for revision."
        )
    for item, (work, materials) in amounts.items():
        if materials < 0:
            raise ClaimRuleError(f"Line {item}: materials stored cannot be negative.")
        line = next((line for line in claim.lines if line.item == item), None)
        if line is None:
            line = ClaimLine(item=item)
            claim.lines.append(line)
        line.work_this_period = to_cents(work)
        line.materials_stored = to_cents(materials)
    _check_within_scheduled_values(claim)


def check_contract_change(contract: HeadContract, retention_changed: bool) -> None:
    """Refuse a change to a contract that would rewrite what its claims bill: a billed line
    removed or its change order no longer approved, a scheduled value below what a claim bills
    on it, or new retention rates once a claim has gone to the client (its certified amount,
    and every later claim's "previous certificates", would change)."""
    if missing := contract.billed_items_missing():
        raise ClaimRuleError(
            f"Claims bill {', '.join(sorted(missing))}: a billed line cannot be removed and "
            "a billed change order must stay approved."
        )
    if retention_changed and any(c.status != ClaimStatus.DRAFT for c in contract.claims):
        raise ClaimRuleError(
            "Retention rates cannot change once a claim has gone to the client: "
            "its certified amounts would change."
        )
    for claim in contract.claims:
        _check_within_scheduled_values(claim)


def _check_within_scheduled_values(claim: ProgressClaim) -> None:
    try:
        figures = claim.figures()
    except ValueError as exc:
        raise ClaimRuleError(str(exc)) from exc
    for line in figures.lines:
        billed, scheduled = line.completed_and_stored, line.scheduled_value
        if scheduled >= 0 and billed > scheduled:
            raise ClaimRuleError(
                f"Line {line.item} would bill {billed} against a scheduled value of "
                f"{scheduled} in claim #{claim.number}; bill the excess through a variation."
            )
        # A deductive variation (negative value) is billed from 0 down to its value, never up.
        if not min(scheduled, ZERO) <= billed <= max(scheduled, ZERO):
            raise ClaimRuleError(
                f"Line {line.item} would bill {billed} against a scheduled value of "
                f"{scheduled} in claim #{claim.number}; a line bills between 0.00 and its "
                "scheduled value."
            )


def change_claim_status(claim: ProgressClaim, new_status: ClaimStatus) -> None:
    """Move the claim (in memory) to a new review status if the workflow allows it."""
    _check_status_change(claim, ClaimStatus(claim.status), new_status)
    claim.status = new_status


def move_claim_status(
    session: Session,
    claim: ProgressClaim,
    *steps: ClaimStatus,
    seen: str | None = None,
    actor: str = "system",
    note: str = "",
    **values,
) -> None:
    """Move a stored claim through `steps` of the workflow with one compare-and-set: if its
    status is no longer the one the user `seen` on their page (or read here), because of a
    concurrent decision or click, nothing changes and ClaimRuleError says so. The move is
    recorded as a claim event (who, why); `values` are set with it. The caller commits."""
    before = ClaimStatus(claim.status)
    if seen is not None and seen != before:
        raise _changed_meanwhile(claim)
    after = _end_of_path(claim, steps)
    moved = session.execute(
        update(ProgressClaim)
        .where(ProgressClaim.id == claim.id, ProgressClaim.status == before)
        .values(status=after, **values)
    )
    if moved.rowcount != 1:
        session.expire(claim)  # what is in memory may say otherwise; the database is right
        raise _changed_meanwhile(claim)
    session.add(ClaimEvent(claim_id=claim.id, actor=actor, status=after, note=note))


def may_move_claim_status(claim: ProgressClaim, *steps: ClaimStatus) -> bool:
    """Whether the workflow lets the claim go through `steps` from where it is now."""
    try:
        _end_of_path(claim, steps)
    except ClaimRuleError:
        return False
    return True


def _end_of_path(claim: ProgressClaim, steps: tuple[ClaimStatus, ...]) -> ClaimStatus:
    """The status after `steps`, each checked against the workflow (ClaimRuleError if not)."""
    current = ClaimStatus(claim.status)
    for step in steps:
        _check_status_change(claim, current, step)
        current = step
    return current


def _changed_meanwhile(claim: ProgressClaim) -> ClaimRuleError:
    return ClaimRuleError(
        f"Claim #{claim.number} changed status meanwhile; reload the page and try again."
    )


def _check_status_change(claim: ProgressClaim, current: ClaimStatus, new: ClaimStatus) -> None:
    if not claim.is_latest and current != new:
        raise ClaimRuleError(f"Claim #{claim.number} is not the latest claim of its contract.")
    if new not in STATUS_TRANSITIONS[current]:
        raise ClaimRuleError(f"A claim cannot go from {current.label} to {new.label}.")
