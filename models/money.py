"""The money of a progress claim: the line table (G703) and the claim summary (G702).

Pure functions over Decimal cents; models and views call these instead of doing arithmetic.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12  # money columns hold 12 digits before the point
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def to_cents(value: Decimal) -> Decimal:
    """Round an amount to whole cents, halves away from zero (ROUND_HALF_UP)."""
    if isinstance(value, float):
        # A float has already lost the cents (2.675 is 2.67499...), so refuse it loudly.
        raise TypeError(f"Money must be a Decimal, not the float {value!r}.")
    cents = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    # A tiny negative amount rounds to -0.00, which must not show on a bill.
    return ZERO if cents.is_zero() else cents


@dataclass(frozen=True)
class BillableLine:
    """A schedule-of-values line, or an approved change order billed as a line."""

    item: str
    description: str
    scheduled_value: Decimal


@dataclass(frozen=True)
class ClaimEntry:
    """What one claim says about one line: work done this period, materials stored now."""

    item: str
    work_this_period: Decimal
    materials_stored: Decimal


@dataclass(frozen=True)
class LineFigures:
    """One row of the line table (continuation sheet), columns C to I plus retention."""

    item: str
    description: str
    scheduled_value: Decimal  # C
    previous: Decimal  # D: work billed by earlier claims
    this_period: Decimal  # E
    materials_stored: Decimal  # F: as of this claim, not cumulative
    completed_and_stored: Decimal  # G = D + E + F
    percent: Decimal  # H = G / C * 100; 0 when C is 0
    balance: Decimal  # I = C - G
    retention: Decimal  # retention_work + retention_materials
    retention_work: Decimal
    retention_materials: Decimal


@dataclass(frozen=True)
class ClaimSummary:
    """The claim summary (application for payment), lines 1 to 9."""

    original_contract_sum: Decimal  # L1
    net_change_orders: Decimal  # L2
    contract_sum_to_date: Decimal  # L3 = L1 + L2
    total_completed_and_stored: Decimal  # L4 = sum of G
    retention_work: Decimal  # L5a
    retention_materials: Decimal  # L5b
    total_retention: Decimal  # L5 = L5a + L5b
    total_earned_less_retention: Decimal  # L6 = L4 - L5
    previous_certificates: Decimal  # L7 = what the earlier claims were certified for
    current_payment_due: Decimal  # L8 = L6 - L7
    tax_on_current_payment_due: Decimal  # L8 x the tax rate, rounded once (0.00 without tax)
    current_payment_due_including_tax: Decimal  # L8 + its tax
    balance_to_finish_including_retention: Decimal  # L9 = L3 - L6


# The line columns published by as_json; the retention split stays internal to the summary.
_JSON_LINE_KEYS = (
    "item",
    "description",
    "scheduled_value",
    "previous",
    "this_period",
    "materials_stored",
    "completed_and_stored",
    "percent",
    "balance",
    "retention",
)


def _as_text(value: str | Decimal) -> str:
    return value if isinstance(value, str) else f"{value:.2f}"


@dataclass(frozen=True)
class ClaimFigures:
    """A computed claim: its line table and its summary."""

    lines: tuple[LineFigures, ...]
    summary: ClaimSummary

    @cached_property
    def totals(self) -> LineFigures:
        """The totals row of the line table: every money column summed; the percentage is
        of the whole (total completed and stored over the contract sum to date). Summed once
        (the figures are frozen): an email and its PDF read it for each column they show."""

        def total(name: str) -> Decimal:
            return sum((getattr(line, name) for line in self.lines), ZERO)

        scheduled, completed = total("scheduled_value"), total("completed_and_stored")
        return LineFigures(
            item="",
            description="",
            scheduled_value=scheduled,
            previous=total("previous"),
            this_period=total("this_period"),
            materials_stored=total("materials_stored"),
            completed_and_stored=completed,
            percent=to_cents(completed * HUNDRED / scheduled) if scheduled else ZERO,
            balance=total("balance"),
            retention=total("retention"),
            retention_work=total("retention_work"),
            retention_materials=total("retention_materials"),
        )

    def as_json(self) -> dict:
        """The figures as JSON-ready dicts, every amount a string with two decimal places."""
        return {
            "lines": [
                {key: _as_text(getattr(line, key)) for key in _JSON_LINE_KEYS}
                for line in self.lines
            ],
            "summary": {
                f.name: _as_text(getattr(self.summary, f.name)) for f in fields(ClaimSummary)
            },
        }


def _by_item(entries: Sequence[ClaimEntry], known: Mapping[str, Decimal]) -> dict[str, ClaimEntry]:
    """One claim's entries keyed by item, in cents; refuses unknown and repeated items."""
    by_item: dict[str, ClaimEntry] = {}
    for entry in entries:
        if entry.item not in known:
            raise ValueError(
                f"Item '{entry.item}' is not a line of the contract or an approved change order."
            )
        if entry.item in by_item:
            raise ValueError(f"Item '{entry.item}' appears twice in one claim.")
        by_item[entry.item] = ClaimEntry(
            entry.item, to_cents(entry.work_this_period), to_cents(entry.materials_stored)
        )
    return by_item


def _line(
    line: BillableLine,
    previous: Decimal,
    entry: ClaimEntry | None,
    work_rate: Decimal,
    materials_rate: Decimal,
) -> LineFigures:
    this_period = entry.work_this_period if entry else ZERO
    materials = entry.materials_stored if entry else ZERO
    completed = previous + this_period + materials
    scheduled = line.scheduled_value
    percent = to_cents(completed * HUNDRED / scheduled) if scheduled else ZERO
    # Rounded per line, so the printed line retentions add up to the printed total.
    retention_work = to_cents((previous + this_period) * work_rate)
    retention_materials = to_cents(materials * materials_rate)
    return LineFigures(
        item=line.item,
        description=line.description,
        scheduled_value=scheduled,
        previous=previous,
        this_period=this_period,
        materials_stored=materials,
        completed_and_stored=completed,
        percent=percent,
        balance=scheduled - completed,
        retention=retention_work + retention_materials,
        retention_work=retention_work,
        retention_materials=retention_materials,
    )


def claim_figures(
    contract_lines: Sequence[BillableLine],
    change_orders: Sequence[BillableLine],
    retention_work_pct: Decimal,
    retention_materials_pct: Decimal,
    claims: Sequence[Sequence[ClaimEntry]],
    certified: Sequence[Decimal | None] = (),
    tax_rate_pct: Decimal = ZERO,
) -> ClaimFigures:
    """The figures of the last of `claims`, the earlier ones giving previous work and L7;
    with a tax rate (GST, VAT), the tax on the payment due and the total including it.

    `certified[i]`, when given and not None, is what claim i was certified for (a payment
    schedule of less than its payment due); otherwise claim i certified its payment due in
    full. L7 is the sum of what the earlier claims certified, so an amount withheld is claimed
    again on the next claim; when every claim was approved in full, L7 is the previous
    claim's L6. What is certified excludes tax, as the payment due does."""
    if not claims:
        raise ValueError("There is no claim to compute: `claims` is empty.")
    sov = [BillableLine(x.item, x.description, to_cents(x.scheduled_value)) for x in contract_lines]
    cos = [BillableLine(x.item, x.description, to_cents(x.scheduled_value)) for x in change_orders]
    work_rate = Decimal(retention_work_pct) / HUNDRED
    materials_rate = Decimal(retention_materials_pct) / HUNDRED
    tax_rate = Decimal(tax_rate_pct) / HUNDRED

    previous_work: dict[str, Decimal] = {}
    for line in sov + cos:
        if line.item in previous_work:
            # Entries name lines by item, so two lines with one item could not be told apart.
            raise ValueError(f"Item '{line.item}' is used by more than one billable line.")
        previous_work[line.item] = ZERO
    contract_sum = sum((x.scheduled_value for x in sov), ZERO)
    change_sum = sum((x.scheduled_value for x in cos), ZERO)

    # One pass over the history: what each claim certified adds to the next claim's L7.
    previous_certificates = ZERO
    for index, entries in enumerate(claims):
        this_claim = _by_item(entries, previous_work)
        lines = tuple(
            _line(x, previous_work[x.item], this_claim.get(x.item), work_rate, materials_rate)
            for x in sov + cos
        )
        completed = sum((x.completed_and_stored for x in lines), ZERO)
        retention_work = sum((x.retention_work for x in lines), ZERO)
        retention_materials = sum((x.retention_materials for x in lines), ZERO)
        retention = retention_work + retention_materials
        earned = completed - retention
        payment_due = earned - previous_certificates
        # Tax is charged on the amount of the claim as a whole and rounded once, not per
        # line: a GST or VAT invoice states the tax on the total it charges.
        tax = to_cents(payment_due * tax_rate)
        summary = ClaimSummary(
            original_contract_sum=contract_sum,
            net_change_orders=change_sum,
            contract_sum_to_date=contract_sum + change_sum,
            total_completed_and_stored=completed,
            retention_work=retention_work,
            retention_materials=retention_materials,
            total_retention=retention,
            total_earned_less_retention=earned,
            previous_certificates=previous_certificates,
            current_payment_due=payment_due,
            tax_on_current_payment_due=tax,
            current_payment_due_including_tax=payment_due + tax,
            balance_to_finish_including_retention=contract_sum + change_sum - earned,
        )
        certified_now = certified[index] if index < len(certified) else None
        previous_certificates += (
            summary.current_payment_due if certified_now is None else to_cents(certified_now)
        )
        for item, entry in this_claim.items():
            previous_work[item] += entry.work_this_period
    return ClaimFigures(lines, summary)
