"""Which days a statutory period counts, per jurisdiction (issue 11, "Calendars and rules")."""

from datetime import date

import pytest

from models.calendars import CALENDARS, Exclusion


@pytest.mark.parametrize(
    "jurisdiction, day, counted",
    [
        ("AU-NSW", date(2026, 12, 24), True),  # an ordinary Thursday
        ("AU-NSW", date(2026, 12, 29), False),  # Tuesday inside 27-31 December
        ("AU-NSW", date(2027, 1, 26), False),  # Australia Day
        ("AU-VIC", date(2025, 12, 22), True),  # before the 2025 amendment's shutdown applied
        ("AU-VIC", date(2026, 12, 22), False),  # 22 December-10 January since 1 Sep 2026
        ("AU-VIC", date(2027, 1, 11), True),
        ("AU-VIC", date(2026, 11, 3), False),  # Melbourne Cup day, a Victorian holiday
        ("AU-QLD", date(2026, 12, 22), False),
        ("AU-QLD", date(2027, 1, 8), False),  # inside 2-10 January
        ("AU-QLD", date(2027, 1, 11), True),
        ("AU-SA", date(2026, 12, 24), True),  # the 7 pm part-day holiday is not a day off
        ("AU-WA", date(2024, 9, 23), False),  # WA King's Birthday (the Martinus count)
        ("AU-NT", date(2027, 1, 7), False),  # 25 December-7 January
        ("AU-NT", date(2027, 1, 8), True),
        ("NZ", date(2026, 12, 23), True),
        ("NZ", date(2026, 12, 24), False),  # 24 December-5 January
        ("NZ", date(2027, 1, 6), True),
        ("NZ", date(2027, 1, 25), True),  # Auckland Anniversary Day: not in the Act's list
        ("UK", date(2026, 12, 19), True),  # a Saturday counts under s 116
        ("UK", date(2026, 4, 3), False),  # Good Friday
        ("UK", date(2026, 12, 28), False),  # Boxing Day (substitute bank holiday)
        ("US", date(2026, 11, 26), False),  # Thanksgiving
    ],
)
def test_which_days_count(jurisdiction, day, counted):
    assert CALENDARS[jurisdiction].counts(day) is counted


def test_exclusions_wrap_the_new_year_and_read_as_words():
    shutdown = Exclusion((12, 22), (1, 10))
    assert shutdown.covers(date(2026, 12, 22)) and shutdown.covers(date(2027, 1, 10))
    assert not shutdown.covers(date(2027, 1, 11)) and not shutdown.covers(date(2026, 12, 21))
    assert shutdown.words == "22 December–10 January"
    assert CALENDARS["AU-NSW"].excluded_words == (
        "Saturdays, Sundays, NSW public holidays and 27–31 December"
    )
    assert CALENDARS["UK"].excluded_words == (
        "Christmas Day, Good Friday and England and Wales bank holidays"
    )


def test_counting_forward_back_and_between():
    nsw = CALENDARS["AU-NSW"]
    # Thu 24 Dec 2026 is counted; the next counted day is Mon 4 Jan 2027.
    assert nsw.after(date(2026, 12, 24), 1) == date(2027, 1, 4)
    assert nsw.before(date(2027, 1, 4), 1) == date(2026, 12, 24)
    assert nsw.between(date(2026, 12, 24), date(2027, 1, 4)) == 1
    assert nsw.between(date(2027, 1, 4), date(2027, 1, 4)) == 0
