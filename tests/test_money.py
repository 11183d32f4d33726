"""The money of a progress claim, as a specification with hand-checked numbers.

Letters follow the line table: C scheduled value, D previous work, E work this period,
F materials stored, G = D + E + F, H percent, I balance. L1..L9 are the summary lines.
"""

from dataclasses import fields
from decimal import Decimal

import pytest

from models.money import (
    CENT,
    BillableLine,
    ClaimEntry,
    ClaimFigures,
    ClaimSummary,
    LineFigures,
    claim_figures,
    to_cents,
)
from tests.contract_fields import LINE_FIELDS, SUMMARY_FIELDS


def money(text: str) -> Decimal:
    return Decimal(text)


def entry(item: str, work: str = "0", materials: str = "0") -> ClaimEntry:
    return ClaimEntry(item, Decimal(work), Decimal(materials))


def line(item: str, value: str, description: str = "") -> BillableLine:
    return BillableLine(item, description or f"Line {item}", Decimal(value))


SOV = [line("1", "10000.00", "Sitework"), line("2", "25000.00", "Framing")]

# Claims 1-3 against SOV at 10 % work / 5 % materials retention.
CLAIM_1 = [entry("1", "4123.45"), entry("2", "5000.00", "3000.00")]
CLAIM_2 = [entry("1", "2000.00"), entry("2", "6000.00", "1000.00")]
CLAIM_3 = [entry("1", "1500.50"), entry("2", "4000.00")]


def figures(claims, sov=SOV, change_orders=(), work_pct="10", materials_pct="5") -> ClaimFigures:
    return claim_figures(
        sov, list(change_orders), Decimal(work_pct), Decimal(materials_pct), claims
    )


def by_item(result: ClaimFigures) -> dict[str, LineFigures]:
    return {x.item: x for x in result.lines}


# 1. A first claim ---------------------------------------------------------------------------


def test_first_claim_line_table():
    result = figures([CLAIM_1])

    # Line 1: G = 0 + 4123.45 + 0; H = 41.2345 -> 41.23; I = 10000 - 4123.45 = 5876.55;
    # retention 10 % of 4123.45 = 412.345 -> 412.35.
    assert result.lines[0] == LineFigures(
        item="1",
        description="Sitework",
        scheduled_value=money("10000.00"),
        previous=money("0.00"),
        this_period=money("4123.45"),
        materials_stored=money("0.00"),
        completed_and_stored=money("4123.45"),
        percent=money("41.23"),
        balance=money("5876.55"),
        retention=money("412.35"),
        retention_work=money("412.35"),
        retention_materials=money("0.00"),
    )
    # Line 2: G = 0 + 5000 + 3000 = 8000; H = 32.00; I = 17000;
    # retention 10 % of 5000 = 500.00 plus 5 % of 3000 = 150.00 -> 650.00.
    assert result.lines[1] == LineFigures(
        item="2",
        description="Framing",
        scheduled_value=money("25000.00"),
        previous=money("0.00"),
        this_period=money("5000.00"),
        materials_stored=money("3000.00"),
        completed_and_stored=money("8000.00"),
        percent=money("32.00"),
        balance=money("17000.00"),
        retention=money("650.00"),
        retention_work=money("500.00"),
        retention_materials=money("150.00"),
    )


def test_first_claim_summary():
    assert figures([CLAIM_1]).summary == ClaimSummary(
        original_contract_sum=money("35000.00"),  # 10000 + 25000
        net_change_orders=money("0.00"),
        contract_sum_to_date=money("35000.00"),
        total_completed_and_stored=money("12123.45"),  # 4123.45 + 8000
        retention_work=money("912.35"),  # 412.35 + 500
        retention_materials=money("150.00"),
        total_retention=money("1062.35"),  # 912.35 + 150
        total_earned_less_retention=money("11061.10"),  # 12123.45 - 1062.35
        previous_certificates=money("0.00"),  # first claim
        current_payment_due=money("11061.10"),
        balance_to_finish_including_retention=money("23938.90"),  # 35000 - 11061.10
    )


# 2. A later claim ---------------------------------------------------------------------------


def test_second_claim_previous_certificates_are_the_first_claims_earned_less_retention():
    summary = figures([CLAIM_1, CLAIM_2]).summary
    # Claim 2: line 1 G = 4123.45 + 2000 = 6123.45, retention 612.345 -> 612.35;
    # line 2 G = 5000 + 6000 + 1000 = 12000, retention 1100 + 50 = 1150.
    # L4 = 18123.45, L5 = 1762.35, L6 = 16361.10; L7 = claim 1's L6 = 11061.10.
    assert summary.total_earned_less_retention == money("16361.10")
    assert summary.previous_certificates == money("11061.10")
    assert summary.current_payment_due == money("5300.00")  # 16361.10 - 11061.10


def test_a_scheduled_amount_certifies_the_claim_and_the_withheld_rest_is_claimed_again():
    """Claim 1 was due 11061.10; the client scheduled 10000.00 (a payment schedule withholding
    1061.10). Claim 2's L7 is what was certified, 10000.00, so its payment due carries the
    1061.10 withheld: 16361.10 - 10000.00 = 6361.10 (5300.00 + 1061.10)."""
    summary = claim_figures(
        SOV, [], Decimal("10"), Decimal("5"), [CLAIM_1, CLAIM_2], [Decimal("10000.00"), None]
    ).summary
    assert summary.previous_certificates == money("10000.00")
    assert summary.current_payment_due == money("6361.10")


def test_l7_sums_what_every_earlier_claim_certified():
    """Claim 1 scheduled at 10000.00; claim 2 approved in full (certifying its due, 6361.10);
    claim 3's L7 = 10000.00 + 6361.10 = 16361.10, claim 2's L6, as if all were in full."""
    certified = [Decimal("10000.00"), None, None]
    summary = claim_figures(
        SOV, [], Decimal("10"), Decimal("5"), [CLAIM_1, CLAIM_2, CLAIM_3], certified
    ).summary
    assert summary.previous_certificates == money("16361.10")
    in_full = figures([CLAIM_1, CLAIM_2, CLAIM_3]).summary
    assert summary.current_payment_due == in_full.current_payment_due


def test_approved_in_full_everywhere_the_figures_stay_as_before():
    all_none = claim_figures(
        SOV, [], Decimal("10"), Decimal("5"), [CLAIM_1, CLAIM_2, CLAIM_3], [None, None, None]
    )
    assert all_none == figures([CLAIM_1, CLAIM_2, CLAIM_3])


def test_third_claim():
    result = figures([CLAIM_1, CLAIM_2, CLAIM_3])
    one, two = result.lines

    # D = work of claims 1 and 2 only; materials stored earlier are not "previous".
    assert one.previous == money("6123.45")  # 4123.45 + 2000
    assert two.previous == money("11000.00")  # 5000 + 6000
    # Line 1: G = 6123.45 + 1500.50 = 7623.95; H = 76.2395 -> 76.24; I = 2376.05;
    # retention 10 % of 7623.95 = 762.395 -> 762.40.
    assert (one.this_period, one.completed_and_stored) == (money("1500.50"), money("7623.95"))
    assert (one.percent, one.balance, one.retention) == (
        money("76.24"),
        money("2376.05"),
        money("762.40"),
    )
    # Line 2: F = 0 now (claim 3 stores nothing); G = 11000 + 4000 = 15000; retention 1500.
    assert (two.materials_stored, two.completed_and_stored) == (money("0.00"), money("15000.00"))
    assert (two.percent, two.balance, two.retention) == (
        money("60.00"),
        money("10000.00"),
        money("1500.00"),
    )

    assert result.summary == ClaimSummary(
        original_contract_sum=money("35000.00"),
        net_change_orders=money("0.00"),
        contract_sum_to_date=money("35000.00"),
        total_completed_and_stored=money("22623.95"),  # 7623.95 + 15000
        retention_work=money("2262.40"),  # 762.40 + 1500
        retention_materials=money("0.00"),
        total_retention=money("2262.40"),
        total_earned_less_retention=money("20361.55"),  # 22623.95 - 2262.40
        previous_certificates=money("16361.10"),  # claim 2's L6, above
        current_payment_due=money("4000.45"),  # 20361.55 - 16361.10
        balance_to_finish_including_retention=money("14638.45"),  # 35000 - 20361.55
    )


def test_a_line_left_out_of_this_claim_keeps_its_previous_work():
    result = figures([CLAIM_1, [entry("2", "100.00")]])
    one = by_item(result)["1"]
    # Line 1: D = 4123.45, E = F = 0; retention 412.345 -> 412.35 as in claim 1.
    assert (one.previous, one.this_period, one.materials_stored) == (
        money("4123.45"),
        money("0.00"),
        money("0.00"),
    )
    assert (one.completed_and_stored, one.retention) == (money("4123.45"), money("412.35"))


def test_an_empty_claim_lists_every_line_at_zero():
    result = figures([[]])
    assert [x.item for x in result.lines] == ["1", "2"]
    assert all(x.completed_and_stored == 0 and x.retention == 0 for x in result.lines)
    assert result.summary.current_payment_due == money("0.00")
    assert result.summary.balance_to_finish_including_retention == money("35000.00")


def test_a_long_history_sums_every_earlier_claim():
    history = [[entry("1", "1.00")] for _ in range(300)]
    one = figures(history).lines[0]
    assert one.previous == money("299.00")  # 299 earlier claims of 1.00
    assert one.completed_and_stored == money("300.00")


# 3. Rounding --------------------------------------------------------------------------------


def test_to_cents_rounds_half_up_not_to_even():
    assert to_cents(Decimal("0.005")) == money("0.01")  # banker's rounding would give 0.00
    assert to_cents(Decimal("0.025")) == money("0.03")  # banker's rounding would give 0.02
    assert to_cents(Decimal("2.675")) == money("2.68")  # the float 2.675 would give 2.67
    assert to_cents(Decimal("0.004999")) == money("0.00")
    assert to_cents(Decimal("-0.005")) == money("-0.01")  # halves go away from zero
    assert str(to_cents(Decimal("15000"))) == "15000.00"
    assert str(to_cents(Decimal("-0.001"))) == "0.00"  # never "-0.00"
    assert CENT == money("0.01")


def test_to_cents_refuses_floats():
    with pytest.raises(TypeError):
        to_cents(0.1)


def test_half_a_cent_of_retention_rounds_up():
    result = figures([[entry("1", "0.05")]], sov=[line("1", "1.00")])
    # 10 % of 0.05 = 0.005 -> 0.01
    assert result.lines[0].retention_work == money("0.01")
    assert result.summary.total_retention == money("0.01")


def test_retention_is_rounded_per_line_then_summed():
    sov = [line("1", "1.00"), line("2", "1.00"), line("3", "1.00")]
    result = figures([[entry("1", "0.05"), entry("2", "0.05"), entry("3", "0.05")]], sov=sov)
    # Each line: 10 % of 0.05 = 0.005 -> 0.01, so the total is 0.03,
    # not 10 % of 0.15 = 0.015 -> 0.02.
    assert [x.retention for x in result.lines] == [money("0.01")] * 3
    assert result.summary.total_retention == money("0.03")
    # L6 = 0.15 - 0.03
    assert result.summary.total_earned_less_retention == money("0.12")


def test_inputs_with_more_than_two_places_are_rounded_to_cents_first():
    result = figures([[entry("1", "100.005", "0.004")]], sov=[line("1", "999.994")])
    one = result.lines[0]
    assert one.scheduled_value == money("999.99")
    assert one.this_period == money("100.01")  # 100.005 -> 100.01
    assert one.materials_stored == money("0.00")  # 0.004 -> 0.00
    assert one.balance == money("899.98")  # 999.99 - 100.01
    # 10 % of 100.01 = 10.001 -> 10.00
    assert one.retention == money("10.00")


# 4. Change orders ---------------------------------------------------------------------------

CO_SOV = [line("1", "50000.00", "Structure")]
CHANGE_ORDERS = [
    line("CO-1", "2500.00", "Extra footings"),
    line("CO-2", "-1200.00", "Delete feature wall"),
]


def test_approved_change_orders_are_billable_lines_after_the_schedule_of_values():
    result = figures(
        [[entry("1", "10000.00"), entry("CO-1", "2500.00")]],
        sov=CO_SOV,
        change_orders=CHANGE_ORDERS,
    )
    assert [(x.item, x.description) for x in result.lines] == [
        ("1", "Structure"),
        ("CO-1", "Extra footings"),
        ("CO-2", "Delete feature wall"),
    ]
    co1, co2 = result.lines[1:]
    # CO-1 fully billed: H = 100.00, I = 0, retention 10 % of 2500 = 250.00.
    assert (co1.completed_and_stored, co1.percent, co1.balance, co1.retention) == (
        money("2500.00"),
        money("100.00"),
        money("0.00"),
        money("250.00"),
    )
    # CO-2 not billed yet: nothing done, the whole deduction is still to come.
    assert (co2.completed_and_stored, co2.percent, co2.balance, co2.retention) == (
        money("0.00"),
        money("0.00"),
        money("-1200.00"),
        money("0.00"),
    )

    assert result.summary == ClaimSummary(
        original_contract_sum=money("50000.00"),
        net_change_orders=money("1300.00"),  # 2500 - 1200
        contract_sum_to_date=money("51300.00"),
        total_completed_and_stored=money("12500.00"),  # 10000 + 2500
        retention_work=money("1250.00"),  # 1000 + 250
        retention_materials=money("0.00"),
        total_retention=money("1250.00"),
        total_earned_less_retention=money("11250.00"),
        previous_certificates=money("0.00"),
        current_payment_due=money("11250.00"),
        balance_to_finish_including_retention=money("40050.00"),  # 51300 - 11250
    )


def test_billing_a_deductive_change_order_credits_the_client():
    claims = [[entry("1", "10000.00"), entry("CO-1", "2500.00")], [entry("CO-2", "-1200.00")]]
    result = figures(claims, sov=CO_SOV, change_orders=CHANGE_ORDERS)
    co2 = by_item(result)["CO-2"]
    # G = -1200; H = -1200 / -1200 * 100 = 100.00; I = 0; retention 10 % of -1200 = -120.00.
    assert (co2.completed_and_stored, co2.percent, co2.balance, co2.retention) == (
        money("-1200.00"),
        money("100.00"),
        money("0.00"),
        money("-120.00"),
    )
    summary = result.summary
    # L4 = 10000 + 2500 - 1200 = 11300; L5 = 1000 + 250 - 120 = 1130; L6 = 10170.
    assert summary.total_completed_and_stored == money("11300.00")
    assert summary.total_retention == money("1130.00")
    assert summary.total_earned_less_retention == money("10170.00")
    assert summary.previous_certificates == money("11250.00")  # claim 1's L6, above
    assert summary.current_payment_due == money("-1080.00")  # 10170 - 11250: a credit
    assert summary.balance_to_finish_including_retention == money("41130.00")  # 51300 - 10170


# 5. Materials stored are as of the claim, not cumulative ------------------------------------


def test_materials_stored_can_go_down_as_they_are_installed():
    sov = [line("1", "20000.00", "Structural steel")]
    claim_1 = [entry("1", "0.00", "5000.00")]
    claim_2 = [entry("1", "3000.00", "2000.00")]  # 3000 of the stored steel now installed

    first = figures([claim_1], sov=sov)
    # G = 5000; retention 5 % of 5000 = 250.00; L6 = 4750.00.
    assert first.summary.total_earned_less_retention == money("4750.00")

    second = figures([claim_1, claim_2], sov=sov)
    steel = second.lines[0]
    # D = 0: earlier materials are not previous work. F = 2000, not 5000 + 2000.
    assert (steel.previous, steel.this_period, steel.materials_stored) == (
        money("0.00"),
        money("3000.00"),
        money("2000.00"),
    )
    # G = 0 + 3000 + 2000 = 5000 (unchanged: the steel moved from stored to installed);
    # H = 25.00; I = 15000; retention 10 % of 3000 = 300.00 + 5 % of 2000 = 100.00.
    assert (steel.completed_and_stored, steel.percent, steel.balance) == (
        money("5000.00"),
        money("25.00"),
        money("15000.00"),
    )
    assert (steel.retention_work, steel.retention_materials, steel.retention) == (
        money("300.00"),
        money("100.00"),
        money("400.00"),
    )
    # L6 = 5000 - 400 = 4600; L7 = 4750; installed work holds more retention than stored
    # materials, so this claim is a 150.00 credit.
    assert second.summary.total_earned_less_retention == money("4600.00")
    assert second.summary.previous_certificates == money("4750.00")
    assert second.summary.current_payment_due == money("-150.00")


# 6. Different retention rates ---------------------------------------------------------------


def test_no_retention_on_materials():
    result = figures([[entry("1", "3000.00", "2000.00")]], work_pct="10", materials_pct="0")
    one = result.lines[0]
    # 10 % of 3000 = 300.00; 0 % of 2000 = 0.00
    assert (one.retention_work, one.retention_materials, one.retention) == (
        money("300.00"),
        money("0.00"),
        money("300.00"),
    )
    assert result.summary.total_earned_less_retention == money("4700.00")  # 5000 - 300


def test_materials_retained_at_a_higher_fractional_rate():
    result = figures([[entry("1", "3000.10", "1234.50")]], work_pct="5", materials_pct="7.5")
    one = result.lines[0]
    # 5 % of 3000.10 = 150.005 -> 150.01; 7.5 % of 1234.50 = 92.5875 -> 92.59.
    assert (one.retention_work, one.retention_materials, one.retention) == (
        money("150.01"),
        money("92.59"),
        money("242.60"),
    )
    # G = 3000.10 + 1234.50 = 4234.60; L6 = 4234.60 - 242.60 = 3992.00
    assert result.summary.total_earned_less_retention == money("3992.00")


def test_no_retention_at_all():
    summary = figures([CLAIM_1], work_pct="0", materials_pct="0").summary
    assert summary.total_retention == money("0.00")
    assert summary.total_earned_less_retention == money("12123.45")  # = L4


# 7. Percent complete ------------------------------------------------------------------------


def test_percent_is_zero_when_the_scheduled_value_is_zero():
    sov = [line("1", "0.00"), line("2", "0.00")]
    result = figures([[entry("2", "100.00")]], sov=sov)
    assert [x.percent for x in result.lines] == [money("0.00"), money("0.00")]
    assert result.lines[1].balance == money("-100.00")  # 0 - 100


def test_percent_rounds_to_two_places_half_up():
    sov = [line("1", "300.00"), line("2", "300.00"), line("3", "200000.00")]
    result = figures(
        [[entry("1", "100.00"), entry("2", "200.00"), entry("3", "24690.00")]], sov=sov
    )
    assert [x.percent for x in result.lines] == [
        money("33.33"),  # 100 / 300 = 33.333...
        money("66.67"),  # 200 / 300 = 66.666...
        money("12.35"),  # 24690 / 200000 = 12.345 exactly -> 12.35
    ]


# 8. Refusals --------------------------------------------------------------------------------


def test_an_unknown_item_is_refused_by_name():
    with pytest.raises(ValueError, match="'9'"):
        figures([[entry("1", "1.00"), entry("9", "1.00")]])


def test_an_unknown_item_in_an_earlier_claim_is_refused_too():
    # Claim 1 billed CO-3, which is no longer an approved change order.
    with pytest.raises(ValueError, match="CO-3"):
        figures([[entry("CO-3", "1.00")], [entry("1", "1.00")]])


def test_no_claims_is_refused():
    with pytest.raises(ValueError):
        figures([])


def test_an_item_billed_twice_in_one_claim_is_refused():
    with pytest.raises(ValueError, match="'1'"):
        figures([[entry("1", "1.00"), entry("1", "2.00")]])


def test_two_billable_lines_with_one_item_are_refused():
    with pytest.raises(ValueError, match="'1'"):
        figures([[]], change_orders=[line("1", "100.00")])


# 9. JSON ------------------------------------------------------------------------------------

LINE_KEYS = set(LINE_FIELDS)
SUMMARY_KEYS = set(SUMMARY_FIELDS)


def test_as_json_renders_every_amount_with_two_places():
    data = figures([CLAIM_1]).as_json()
    assert set(data) == {"lines", "summary"}
    assert data["lines"][0] == {
        "item": "1",
        "description": "Sitework",
        "scheduled_value": "10000.00",
        "previous": "0.00",
        "this_period": "4123.45",
        "materials_stored": "0.00",
        "completed_and_stored": "4123.45",
        "percent": "41.23",
        "balance": "5876.55",
        "retention": "412.35",
    }
    assert data["summary"] == {
        "original_contract_sum": "35000.00",
        "net_change_orders": "0.00",
        "contract_sum_to_date": "35000.00",
        "total_completed_and_stored": "12123.45",
        "retention_work": "912.35",
        "retention_materials": "150.00",
        "total_retention": "1062.35",
        "total_earned_less_retention": "11061.10",
        "previous_certificates": "0.00",
        "current_payment_due": "11061.10",
        "balance_to_finish_including_retention": "23938.90",
    }


def test_as_json_key_sets_and_negative_amounts():
    result = figures(
        [[entry("1", "10000"), entry("CO-1", "2500")], [entry("CO-2", "-1200")]],
        sov=[line("1", "50000")],
        change_orders=CHANGE_ORDERS,
    )
    data = result.as_json()
    assert all(set(x) == LINE_KEYS for x in data["lines"])
    assert set(data["summary"]) == SUMMARY_KEYS
    co2 = data["lines"][2]
    assert (co2["item"], co2["scheduled_value"], co2["percent"], co2["retention"]) == (
        "CO-2",
        "-1200.00",
        "100.00",
        "-120.00",
    )
    assert data["lines"][0]["scheduled_value"] == "50000.00"  # input had no places
    assert data["summary"]["current_payment_due"] == "-1080.00"


def test_as_json_holds_only_strings():
    data = figures([CLAIM_1, CLAIM_2]).as_json()
    values = [v for x in data["lines"] for v in x.values()] + list(data["summary"].values())
    assert all(isinstance(v, str) for v in values)


# 10. The tables tie out, and nothing is a float ---------------------------------------------


def test_the_line_table_ties_out_to_the_summary():
    sov = [line("1", "1234.56"), line("2", "789.01"), line("3", "3333.33")]
    change_orders = [line("V1", "456.78"), line("V2", "-99.99")]
    claims = [
        [entry("1", "111.11", "22.22"), entry("2", "333.33"), entry("V1", "45.67", "12.34")],
        [entry("1", "98.76", "5.55"), entry("3", "1111.11", "777.77"), entry("V2", "-33.33")],
    ]
    result = figures(claims, sov=sov, change_orders=change_orders, materials_pct="7.5")
    lines, summary = result.lines, result.summary

    def total(name):
        return sum(getattr(x, name) for x in lines)

    assert total("retention") == summary.total_retention
    assert total("retention_work") == summary.retention_work
    assert total("retention_materials") == summary.retention_materials
    assert total("completed_and_stored") == summary.total_completed_and_stored
    assert total("scheduled_value") == summary.contract_sum_to_date
    assert total("balance") == summary.contract_sum_to_date - summary.total_completed_and_stored
    assert sum(x.scheduled_value for x in lines[:3]) == summary.original_contract_sum
    assert sum(x.scheduled_value for x in lines[3:]) == summary.net_change_orders


def test_every_amount_is_a_decimal_in_cents():
    result = figures([CLAIM_1, CLAIM_2], change_orders=[line("CO-1", "-0.004")])
    amounts = [
        getattr(x, f.name)
        for x in result.lines
        for f in fields(LineFigures)
        if f.name not in ("item", "description")
    ]
    amounts += [getattr(result.summary, f.name) for f in fields(ClaimSummary)]
    assert all(type(v) is Decimal for v in amounts)
    # Two places each, so nothing shows as 1E+4 or 0.005 anywhere downstream.
    assert all(v.as_tuple().exponent == -2 for v in amounts)
