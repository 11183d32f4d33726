"""The rules of making, editing and approving progress claims (models/claim.py)."""

from datetime import date
from decimal import Decimal

import pytest

from models import (
    ChangeOrder,
    ClaimStatus,
    Company,
    ContractLine,
    HeadContract,
    ProgressClaim,
    Project,
)
from models.claim import (
    carry_forward_materials,
    change_claim_status,
    open_claim,
    set_claim_lines,
)
from models.errors import ClaimRuleError
from web.extensions import db

D = Decimal
OCT = (date(2026, 10, 1), date(2026, 10, 31))
NOV = (date(2026, 11, 1), date(2026, 11, 30))
DEC = (date(2026, 12, 1), date(2026, 12, 31))


@pytest.fixture
def contract(ctx) -> HeadContract:
    """An approved contract: line 1 1,000.00, line 2 500.00, approved variation V-1 200.00,
    a deductive variation V-2 -300.00 and a pending V-3; retention 10% on work, 5% on materials.
    """
    project = Project(company=Company(name="Test Builders"), name="Tower", number="P-1")
    contract = HeadContract(
        number="HC-1",
        title="Main works",
        status="approved",
        retention_work_pct=D("10"),
        retention_materials_pct=D("5"),
        lines=[
            ContractLine(position=0, item="1", description="Piling", scheduled_value=D("1000")),
            ContractLine(position=1, item="2", description="Slab", scheduled_value=D("500")),
        ],
        change_orders=[
            ChangeOrder(number="V-1", description="Extra", amount=D("200"), status="approved"),
            ChangeOrder(number="V-2", description="Omit", amount=D("-300"), status="approved"),
            ChangeOrder(number="V-3", description="Maybe", amount=D("50"), status="pending"),
        ],
    )
    project.head_contracts.append(contract)
    db.session.add(project)
    db.session.commit()
    return contract


def approve(claim: ProgressClaim) -> ProgressClaim:
    """Through the client's review to approved, so the next claim can be opened."""
    change_claim_status(claim, ClaimStatus.UNDER_REVIEW)
    change_claim_status(claim, ClaimStatus.APPROVED)
    return claim


def lines_of(claim: ProgressClaim) -> dict[str, tuple[Decimal, Decimal]]:
    return {x.item: (x.work_this_period, x.materials_stored) for x in claim.lines}


# Opening claims


def test_a_draft_contract_takes_no_claims(contract):
    contract.status = "draft"
    with pytest.raises(ClaimRuleError, match="HC-1 is draft; claims need an approved or complete"):
        open_claim(contract, *OCT)
    assert contract.claims == []


@pytest.mark.parametrize("status", ["approved", "complete"])
def test_approved_and_complete_contracts_take_claims(contract, status):
    contract.status = status
    claim = open_claim(contract, *OCT)
    db.session.commit()
    db.session.expire_all()
    assert [(c.number, c.period_start, c.period_end, c.status) for c in contract.claims] == [
        (1, date(2026, 10, 1), date(2026, 10, 31), "draft")
    ]
    assert contract.claims[0] is claim


def test_claims_are_numbered_one_after_another(contract):
    for period in (OCT, NOV, DEC):
        approve(open_claim(contract, *period))
        db.session.commit()
    db.session.expire_all()
    assert [c.number for c in contract.claims] == [1, 2, 3]


def test_a_one_day_period_is_a_period(contract):
    claim = open_claim(contract, date(2026, 10, 1), date(2026, 10, 1))
    assert claim.number == 1


@pytest.mark.parametrize(
    "start, end",
    [
        (date(2026, 10, 31), date(2026, 11, 30)),  # shares the last day
        (date(2026, 10, 10), date(2026, 10, 20)),  # inside
        (date(2026, 9, 1), date(2026, 12, 31)),  # around
    ],
)
def test_billing_periods_do_not_overlap(contract, start, end):
    approve(open_claim(contract, *OCT))
    with pytest.raises(ClaimRuleError, match=r"overlaps claim #1 \(2026-10-01 to 2026-10-31\)"):
        open_claim(contract, start, end)
    assert [c.number for c in contract.claims] == [1]


def test_a_period_cannot_end_before_it_starts(contract):
    with pytest.raises(ClaimRuleError, match="ends before it starts"):
        open_claim(contract, date(2026, 10, 31), date(2026, 10, 1))
    assert contract.claims == []


def test_a_period_cannot_come_before_the_previous_claims(contract):
    approve(open_claim(contract, *NOV))
    with pytest.raises(ClaimRuleError, match="before claim #1's"):
        open_claim(contract, *OCT)
    assert [c.period_start for c in contract.claims] == [NOV[0]]


# Editing claims


@pytest.mark.parametrize("status", ["draft", "under_review", "revise_and_resubmit"])
def test_the_next_claim_waits_for_the_previous_ones_approval(contract, status):
    first = open_claim(contract, *OCT)
    first.status = status
    with pytest.raises(ClaimRuleError, match="Claim #1 is .*: the next claim can be opened once"):
        open_claim(contract, *NOV)
    assert contract.claims == [first] and first.is_editable == (status != "under_review")


def test_only_the_latest_claim_is_editable(contract):
    first = open_claim(contract, *OCT)
    assert first.is_editable
    approve(first)
    second = open_claim(contract, *NOV)
    first.status = "draft"  # even a claim whose status says draft, once it is not the latest
    assert (first.is_editable, second.is_editable) == (False, True)
    with pytest.raises(ClaimRuleError, match="Claim #1 cannot be edited"):
        set_claim_lines(first, {"1": (D("100"), D("0"))})
    assert lines_of(first) == {}


@pytest.mark.parametrize(
    "status, editable",
    [
        ("draft", True),
        ("under_review", False),
        ("revise_and_resubmit", True),
        ("approved", False),
    ],
)
def test_a_claim_is_editable_while_draft_or_sent_back(contract, status, editable):
    claim = open_claim(contract, *OCT)
    claim.status = status
    assert claim.is_editable is editable
    if editable:
        set_claim_lines(claim, {"1": (D("100"), D("0"))})
        assert lines_of(claim) == {"1": (D("100.00"), D("0.00"))}
    else:
        with pytest.raises(ClaimRuleError, match="Claim #1 cannot be edited"):
            set_claim_lines(claim, {"1": (D("100"), D("0"))})
        assert lines_of(claim) == {}


def test_set_claim_lines_stores_cents_and_replaces_what_a_line_billed(contract):
    claim = open_claim(contract, *OCT)
    set_claim_lines(claim, {"1": (D("100.005"), D("0")), "2": (D("0"), D("40"))})
    set_claim_lines(claim, {"1": (D("250"), D("10"))})
    db.session.commit()
    db.session.expire_all()
    assert lines_of(claim) == {"1": (D("250.00"), D("10.00")), "2": (D("0.00"), D("40.00"))}


def test_materials_stored_cannot_be_negative(contract):
    claim = open_claim(contract, *OCT)
    with pytest.raises(ClaimRuleError, match="Line 2: materials stored cannot be negative"):
        set_claim_lines(claim, {"2": (D("10"), D("-0.01"))})


def test_items_must_be_lines_or_approved_change_orders(contract):
    claim = open_claim(contract, *OCT)
    with pytest.raises(ClaimRuleError, match="Item 'V-3' is not a line"):
        set_claim_lines(claim, {"V-3": (D("10"), D("0"))})


def test_a_line_bills_up_to_its_scheduled_value(contract):
    claim = open_claim(contract, *OCT)
    set_claim_lines(claim, {"1": (D("900"), D("100")), "V-1": (D("200"), D("0"))})
    line_1 = claim.figures().lines[0]
    assert (line_1.completed_and_stored, line_1.percent, line_1.balance) == (
        D("1000.00"),
        D("100.00"),
        D("0.00"),
    )


def test_no_line_bills_more_than_its_scheduled_value(contract):
    claim = open_claim(contract, *OCT)
    with pytest.raises(
        ClaimRuleError,
        match=r"Line 1 would bill 1000.01 against a scheduled value of 1000.00 in claim #1; "
        "bill the excess through a variation",
    ):
        set_claim_lines(claim, {"1": (D("900"), D("100.01"))})


def test_the_scheduled_value_limits_the_work_of_all_claims_together(contract):
    first = open_claim(contract, *OCT)
    set_claim_lines(first, {"2": (D("450"), D("0"))})
    approve(first)
    second = open_claim(contract, *NOV)
    with pytest.raises(ClaimRuleError, match="Line 2 would bill 500.01 against .* of 500.00"):
        set_claim_lines(second, {"2": (D("50.01"), D("0"))})
    set_claim_lines(second, {"2": (D("50"), D("0"))})
    assert second.figures().lines[1].completed_and_stored == D("500.00")


def test_a_deductive_variation_is_billed_down_to_its_amount_and_never_up(contract):
    """V-2 takes 300.00 off the contract: billing it may credit up to 300.00 and never charge."""
    claim = open_claim(contract, *OCT)
    with pytest.raises(ClaimRuleError, match="Line V-2 would bill 100.00 .* of -300.00"):
        set_claim_lines(claim, {"V-2": (D("100"), D("0"))})
    with pytest.raises(ClaimRuleError, match="Line V-2 would bill -300.01 .* of -300.00"):
        set_claim_lines(claim, {"V-2": (D("-300.01"), D("0"))})
    set_claim_lines(claim, {"V-2": (D("-300"), D("0"))})
    v_2 = claim.figures().lines[3]
    assert (v_2.item, v_2.completed_and_stored, v_2.balance) == ("V-2", D("-300.00"), D("0.00"))


def test_a_correction_cannot_take_a_line_below_nothing(contract):
    first = open_claim(contract, *OCT)
    set_claim_lines(first, {"1": (D("100"), D("0"))})
    approve(first)
    second = open_claim(contract, *NOV)
    with pytest.raises(ClaimRuleError, match="Line 1 would bill -0.01 against"):
        set_claim_lines(second, {"1": (D("-100.01"), D("0"))})
    set_claim_lines(second, {"1": (D("-100"), D("0"))})  # credits claim 1's work back in full
    assert second.figures().lines[0].completed_and_stored == D("0.00")


def test_a_new_claim_starts_with_the_materials_still_stored(contract):
    first = open_claim(contract, *OCT)
    set_claim_lines(first, {"1": (D("300"), D("0")), "2": (D("0"), D("100"))})
    approve(first)
    second = open_claim(contract, *NOV)
    carry_forward_materials(second)
    assert lines_of(second) == {"2": (D("0"), D("100"))}
    assert second.figures().summary.current_payment_due == D("0.00")


# Review status


ALLOWED_MOVES = {
    ("draft", "under_review"),
    ("under_review", "approved"),
    ("under_review", "revise_and_resubmit"),
    ("under_review", "draft"),
    ("revise_and_resubmit", "draft"),
    ("revise_and_resubmit", "under_review"),
}
STATUSES = ["draft", "under_review", "revise_and_resubmit", "approved"]


@pytest.mark.parametrize("old", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_status_changes_follow_the_review_workflow(contract, old, new):
    claim = open_claim(contract, *OCT)
    claim.status = old
    if (old, new) in ALLOWED_MOVES:
        change_claim_status(claim, ClaimStatus(new))
        assert claim.status == new
    else:
        with pytest.raises(ClaimRuleError, match="A claim cannot go from"):
            change_claim_status(claim, ClaimStatus(new))
        assert claim.status == old


def test_an_approved_claim_is_final(contract):
    claim = open_claim(contract, *OCT)
    change_claim_status(claim, ClaimStatus.UNDER_REVIEW)
    change_claim_status(claim, ClaimStatus.APPROVED)
    assert not claim.is_editable
    for status in ClaimStatus:
        with pytest.raises(ClaimRuleError, match="cannot go from Approved to"):
            change_claim_status(claim, status)
    assert claim.status == "approved"


def test_an_earlier_claims_status_cannot_change(contract):
    first = approve(open_claim(contract, *OCT))
    open_claim(contract, *NOV)
    first.status = "under_review"  # even one whose status would allow the move, if it were latest
    with pytest.raises(ClaimRuleError, match="Claim #1 is not the latest claim"):
        change_claim_status(first, ClaimStatus.APPROVED)
    assert first.status == "under_review"


# Previous work


def test_previous_is_the_work_of_earlier_claims_and_stays_put(contract):
    first = open_claim(contract, *OCT)
    set_claim_lines(first, {"1": (D("300"), D("0")), "2": (D("0"), D("100"))})
    change_claim_status(first, ClaimStatus.UNDER_REVIEW)
    change_claim_status(first, ClaimStatus.APPROVED)
    db.session.commit()
    first_figures = first.figures().as_json()
    # Claim 1: 400.00 completed and stored, 30.00 + 5.00 retention.
    assert first_figures["summary"]["total_earned_less_retention"] == "365.00"

    second = open_claim(contract, *NOV)
    set_claim_lines(second, {"1": (D("200"), D("0"))})
    db.session.commit()
    db.session.expire_all()

    line_1, line_2 = second.figures().lines[:2]
    assert (line_1.previous, line_1.this_period, line_1.completed_and_stored) == (
        D("300.00"),
        D("200.00"),
        D("500.00"),
    )
    # Materials are as of each claim: claim 1's were not carried into claim 2.
    assert (line_2.previous, line_2.materials_stored) == (D("0.00"), D("0.00"))
    summary = second.figures().summary
    assert (summary.previous_certificates, summary.current_payment_due) == (D("365.00"), D("85.00"))

    set_claim_lines(second, {"1": (D("700"), D("0")), "2": (D("500"), D("0"))})
    db.session.commit()
    db.session.expire_all()
    assert first.figures().as_json() == first_figures
