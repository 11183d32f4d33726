"""The statutory clock (issue 11): which days count, when a claim is served, what falls due.

Every expected date below was counted by hand on the calendar and the count is written beside
it. December 2026: Fri 18, Mon 21 .. Thu 24, Fri 25 Christmas, Sat 26 Boxing Day, Mon 28 Boxing
Day (observed) in most places, Thu 31; January 2027: Fri 1 New Year, Mon 4, Mon 11, Mon 18,
Mon 25, Tue 26 Australia Day; February 2027: Mon 1, Sat 6 Waitangi Day (Mon 8 observed).
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from models.calendars import CALENDARS
from models.deadlines import (
    RULES,
    business_days_left,
    deadlines_of,
    format_day,
    service_of,
)
from models.statutory import JURISDICTIONS

FRI_18_DEC = date(2026, 12, 18)


def served_on(jurisdiction: str, day: date):
    """A claim accepted at 10:00 local time on `day` (no time-zone edge in these examples)."""
    local = ZoneInfo(RULES[jurisdiction].time_zone)
    service = service_of(datetime(day.year, day.month, day.day, 10, tzinfo=local), jurisdiction)
    assert service.on == day
    return service


def due(jurisdiction: str, day: date = FRI_18_DEC, **contract) -> dict[str, date]:
    served = served_on(jurisdiction, day)
    return {d.kind: d.due for d in deadlines_of(jurisdiction, served, **contract)}


def test_every_jurisdiction_but_none_has_rules():
    assert set(RULES) == set(JURISDICTIONS) - {"none"}
    assert set(CALENDARS) == set(RULES)


# ---- when a claim counts as served ------------------------------------------------------------


def test_service_after_hours_stays_on_that_day_in_nsw():
    # Sharvain: the claim was emailed at 7.18 pm on Friday 28 February 2025 (08:18 UTC).
    service = service_of(datetime(2025, 2, 28, 8, 18, tzinfo=UTC), "AU-NSW")
    assert service.on == date(2025, 2, 28)
    assert service.basis.startswith("Fri 28 Feb 2025 19:18 AEDT")
    assert "[2025] NSWCA 161" in service.basis
    (schedule,) = [d for d in deadlines_of("AU-NSW", service) if d.kind == "payment_schedule"]
    # Mar 3..7 = 1..5, Mar 10..14 = 6..10: the schedule given on Monday 17 March was late.
    assert schedule.due == date(2025, 3, 14)
    assert schedule.is_overdue(date(2025, 3, 17))


def test_service_on_a_saturday_in_wa_counts_from_that_saturday():
    # Martinus: emailed Saturday 31 August 2024 at 4.35 pm AWST (08:35 UTC).
    service = service_of(datetime(2024, 8, 31, 8, 35, tzinfo=UTC), "AU-WA")
    assert service.on == date(2024, 8, 31)
    assert "AWST" in service.basis and "[2025] WASC 373" in service.basis
    schedule = deadlines_of("AU-WA", service)[0]
    # Sep 2..6 = 1..5, 9..13 = 6..10, 16..20 = 11..15: due Fri 20 Sep; the schedule of
    # Tue 24 Sep was the 16th business day (Mon 23 Sep was WA's King's Birthday).
    assert schedule.due == date(2024, 9, 20)
    assert CALENDARS["AU-WA"].between(service.on, date(2024, 9, 24)) == 16


def test_service_is_the_local_date_where_the_act_applies():
    # 14:00 UTC on Monday 30 November is 01:00 on Tuesday 1 December in Sydney.
    service = service_of(datetime(2026, 11, 30, 14, 0, tzinfo=UTC), "AU-NSW")
    assert service.on == date(2026, 12, 1)
    assert service.at.utcoffset().total_seconds() == 11 * 3600
    # and a naive time (SQLite hands them back so) is taken as UTC
    assert service_of(datetime(2026, 11, 30, 14, 0), "AU-NSW").at == service.at


def test_the_basis_names_the_day_of_service_the_act_and_section():
    service = served_on("AU-NSW", date(2026, 12, 1))
    schedule = deadlines_of("AU-NSW", service)[0]
    assert schedule.basis == (
        "10 business days after service on Tue 1 Dec 2026, "
        "Building and Construction Industry Security of Payment Act 1999 (NSW) s 14(4)(b)"
    )
    assert format_day(date(2027, 1, 5)) == "Tue 5 Jan 2027"


def test_unknown_jurisdictions_are_refused_and_none_has_no_clock():
    with pytest.raises(ValueError):
        service_of(datetime(2026, 12, 1, tzinfo=UTC), "AU-XYZ")
    service = service_of(datetime(2026, 12, 1, 9, tzinfo=UTC), "none")
    assert deadlines_of("none", service) == []


# ---- the deadlines, one worked example per Act ------------------------------------------------


def test_nsw():
    # Served Fri 18 Dec 2026. Mon 21..Thu 24 = 1..4; Fri 25 Christmas, Sat-Sun, Mon 28 Boxing
    # Day (observed) and 27-31 December, Fri 1 Jan New Year, Sat-Sun; Mon 4..Fri 8 = 5..9,
    # Mon 11 = 10. Then Tue 12..Fri 15 = 11..14, Mon 18 = 15.
    assert due("AU-NSW") == {
        "payment_schedule": date(2027, 1, 11),
        "payment_due": date(2027, 1, 18),
    }


def test_nsw_contract_may_shorten_but_not_lengthen():
    # 5 business days: Mon 21..Thu 24 = 1..4, Mon 4 Jan = 5. 30 for payment is capped at 15.
    assert due("AU-NSW", payment_schedule_business_days=5, payment_due_business_days=30) == {
        "payment_schedule": date(2027, 1, 4),
        "payment_due": date(2027, 1, 18),
    }
    served = served_on("AU-NSW", FRI_18_DEC)
    schedule, payment = deadlines_of(
        "AU-NSW", served, payment_schedule_business_days=5, payment_due_business_days=30
    )
    assert schedule.basis.startswith("5 business days after service on Fri 18 Dec 2026, ")
    assert "the contract's period (at most 10: " in schedule.basis
    assert "s 11(1A) (the contract's 30 business days are more than it allows)" in payment.basis


def test_victoria_since_the_2025_shutdown():
    # Mon 21 Dec = 1; 22 Dec-10 Jan left out; Mon 11..Fri 15 Jan = 2..6, Mon 18..Thu 21 = 7..10.
    # A contract's 25 days for payment are cut to 20: Fri 22 = 11, Mon 25 = 12, Tue 26 Australia
    # Day, Wed 27..Fri 29 = 13..15, Mon 1..Fri 5 Feb = 16..20.
    assert due("AU-VIC", payment_due_business_days=25) == {
        "payment_schedule": date(2027, 1, 21),
        "payment_due": date(2027, 2, 5),
    }


def test_victoria_before_the_shutdown_applied():
    # Served Fri 19 Dec 2025: Mon 22..Wed 24 = 1..3; Thu 25 and Fri 26 holidays; Mon 29..Wed 31
    # = 4..6; Thu 1 Jan holiday; Fri 2 = 7; Mon 5..Wed 7 = 8..10.
    assert due("AU-VIC", date(2025, 12, 19))["payment_schedule"] == date(2026, 1, 7)


def test_queensland():
    # Mon 21 Dec = 1; 22 Dec-10 Jan left out; Mon 11..Fri 15 = 2..6, Mon 18..Fri 22 = 7..11,
    # Mon 25 = 12, Tue 26 Australia Day, Wed 27..Fri 29 = 13..15. Payment (10) is Thu 21 Jan;
    # a contract's 20 days are cut to 15 by the QBCC Act s 67U.
    assert due("AU-QLD") == {
        "payment_schedule": date(2027, 1, 29),
        "payment_due": date(2027, 1, 21),
    }
    assert due("AU-QLD", payment_due_business_days=20)["payment_due"] == date(2027, 1, 29)


def test_queensland_matches_the_master_builders_worked_example():
    # Master Builders Queensland (Dec 2021): a claim given on Tue 21 Dec 2021 is payable in
    # 10 business days on 24 Jan 2022 and needs its schedule by 1 Feb 2022. Counted: Tue 11..
    # Fri 14 Jan = 1..4, Mon 17..Fri 21 = 5..9, Mon 24 = 10, Tue 25 = 11, Wed 26 Australia Day,
    # Thu 27, Fri 28, Mon 31 = 12..14, Tue 1 Feb = 15.
    assert due("AU-QLD", date(2021, 12, 21)) == {
        "payment_schedule": date(2022, 2, 1),
        "payment_due": date(2022, 1, 24),
    }


def test_western_australia():
    # Mon 21..Thu 24 = 1..4; Christmas, weekend, Boxing Day (observed) and 27-31 December, New
    # Year; Mon 4..Fri 8 = 5..9, Mon 11..Fri 15 = 10..14, Mon 18 = 15. Payment 20: Tue 19..Fri 22
    # = 16..19, Mon 25 = 20.
    assert due("AU-WA") == {"payment_schedule": date(2027, 1, 18), "payment_due": date(2027, 1, 25)}


def test_south_australia_contract_may_set_a_longer_due_date():
    # Schedule and default payment 15: as WA, Mon 18 Jan. The contract's 30 days stand (no cap):
    # Tue 19..Fri 22 = 16..19, Mon 25 = 20, Tue 26 Australia Day, Wed 27..Fri 29 = 21..23,
    # Mon 1..Fri 5 Feb = 24..28, Mon 8 = 29, Tue 9 = 30.
    assert due("AU-SA") == {"payment_schedule": date(2027, 1, 18), "payment_due": date(2027, 1, 18)}
    assert due("AU-SA", payment_due_business_days=30)["payment_due"] == date(2027, 2, 9)


def test_tasmania():
    # Mon 21..Thu 24 = 1..4; Christmas, weekend, Mon 28 Boxing Day, 29-31 December, New Year;
    # Mon 4..Fri 8 = 5..9, Mon 11 = 10. A contract's 12 days for payment stand: Tue 12, Wed 13.
    assert due("AU-TAS") == {
        "payment_schedule": date(2027, 1, 11),
        "payment_due": date(2027, 1, 11),
    }
    assert due("AU-TAS", payment_due_business_days=12)["payment_due"] == date(2027, 1, 13)


def test_act():
    # As NSW: schedule Mon 11 Jan (10), payment Mon 18 Jan (15, the cap since March 2024).
    assert due("AU-ACT", payment_due_business_days=40) == {
        "payment_schedule": date(2027, 1, 11),
        "payment_due": date(2027, 1, 18),
    }


def test_northern_territory():
    # Working days: Mon 21..Thu 24 = 1..4; 25 Dec-7 Jan left out; Fri 8 = 5, Mon 11..Fri 15
    # = 6..10. Payment 20: Mon 18..Fri 22 = 11..15, Mon 25 = 16, Tue 26 Australia Day,
    # Wed 27..Fri 29 = 17..19, Mon 1 Feb = 20.
    assert due("AU-NT") == {"response": date(2027, 1, 15), "payment_due": date(2027, 2, 1)}


def test_new_zealand():
    # Working days: Mon 21..Wed 23 = 1..3; 24 Dec-5 Jan left out; Wed 6..Fri 8 = 4..6,
    # Mon 11..Fri 15 = 7..11, Mon 18..Fri 22 = 12..16, Mon 25 (Auckland's anniversary is not
    # in the Act) .. Thu 28 = 17..20. A contract's 30 for payment: Fri 29 = 21, Mon 1..Fri 5 Feb
    # = 22..26, Sat 6 Waitangi Day, Mon 8 its observed day, Tue 9..Fri 12 = 27..30.
    assert due("NZ", payment_due_business_days=30) == {
        "response": date(2027, 1, 28),
        "payment_due": date(2027, 2, 12),
    }
    response = deadlines_of("NZ", served_on("NZ", FRI_18_DEC))[0]
    assert response.basis == (
        "20 working days after service on Fri 18 Dec 2026, "
        "Construction Contracts Act 2002 (NZ) s 22"
    )


def test_uk_scheme_defaults():
    # Period ended Mon 30 Nov; 7 days after is Mon 7 Dec; the claim came later, on Fri 18 Dec,
    # so payment is due Fri 18 Dec (Scheme para 4). Days count weekends but not Christmas Day or
    # bank holidays (s 116). Payment notice: Sat 19..Wed 23 = 1..5. Final date 17: 19..24 = 1..6,
    # Fri 25 Christmas and Sat 26 Boxing Day out, Sun 27 = 7, Mon 28 substitute bank holiday out,
    # 29..31 = 8..10, Fri 1 Jan out, Sat 2..Fri 8 = 11..17. Pay less notice 7 days before Fri 8
    # Jan: 7, 6, 5, 4, 3, 2 Jan = 1..6, 1 Jan out, Thu 31 Dec = 7.
    assert due("UK", period_end=date(2026, 11, 30)) == {
        "payment_notice": date(2026, 12, 23),
        "final_date_for_payment": date(2027, 1, 8),
        "pay_less_notice": date(2026, 12, 31),
    }


def test_uk_due_date_waits_for_the_period_and_the_contract_sets_the_final_date():
    # Claim on Thu 3 Dec for a period ending Mon 30 Nov: due Mon 7 Dec (the later). Payment
    # notice Tue 8..Sat 12 = 1..5. The contract's 14 days to the final date: Tue 8..Mon 21.
    served = served_on("UK", date(2026, 12, 3))
    deadlines = deadlines_of(
        "UK", served, period_end=date(2026, 11, 30), payment_due_business_days=14
    )
    assert [(d.kind, d.due) for d in deadlines] == [
        ("payment_notice", date(2026, 12, 12)),
        ("final_date_for_payment", date(2026, 12, 21)),
        ("pay_less_notice", date(2026, 12, 14)),  # 7 days before Mon 21: 20..14
    ]
    assert "the payment due date Mon 7 Dec 2026" in deadlines[0].basis
    assert "Housing Grants, Construction and Regeneration Act 1996 s 110A(2)" in deadlines[0].basis


def test_us_counts_only_the_contracts_days():
    # Business days: Mon 21..Thu 24 = 1..4, Fri 25 Christmas, Mon 28..Thu 31 = 5..8, Fri 1 Jan
    # New Year, Mon 4 = 9, Tue 5 = 10.
    assert due("US") == {}
    assert due("US", payment_due_business_days=10) == {"payment_due": date(2027, 1, 5)}


def test_negative_contract_days_are_refused():
    with pytest.raises(ValueError):
        due("AU-NSW", payment_schedule_business_days=-1)


# ---- business days left -----------------------------------------------------------------------


def test_business_days_left_as_of_a_date():
    schedule = deadlines_of("AU-NSW", served_on("AU-NSW", FRI_18_DEC))[0]  # Mon 11 Jan 2027
    assert business_days_left(schedule, date(2026, 12, 30)) == 6  # Jan 4, 5, 6, 7, 8, 11
    assert business_days_left(schedule, date(2027, 1, 7)) == 2  # Fri 8, Mon 11
    assert business_days_left(schedule, date(2027, 1, 9)) == 1  # a Saturday: Mon 11
    assert business_days_left(schedule, date(2027, 1, 11)) == 0
    assert not schedule.is_overdue(date(2027, 1, 11))
    assert business_days_left(schedule, date(2027, 1, 13)) == -2  # Tue 12, Wed 13
    assert schedule.is_overdue(date(2027, 1, 12))
