"""Which days count for a statutory period: public holidays from the `holidays` package plus
each Act's own exclusions (the Christmas shutdowns). Pure date arithmetic, no I/O."""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import holidays


@dataclass(frozen=True)
class Exclusion:
    """Days of every year an Act leaves out of its count: (month, day) to (month, day) inclusive,
    wrapping over the new year when the end comes before the start. `in_force_from` is the first
    day on which an amendment that added the exclusion applies."""

    start: tuple[int, int]
    end: tuple[int, int]
    in_force_from: date | None = None

    def covers(self, day: date) -> bool:
        if self.in_force_from and day < self.in_force_from:
            return False
        md = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end

    @property
    def words(self) -> str:
        start, end = (date(2000, m, d) for m, d in (self.start, self.end))
        if start.month == end.month:
            span = f"{start.day}–{end.day} {end:%B}"
        else:
            span = f"{start.day} {start:%B}–{end.day} {end:%B}"
        if self.in_force_from:
            span += f" (from {self.in_force_from.day} {self.in_force_from:%B %Y})"
        return span


@cache
def _public_holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    # Built once per year and frozen: a shared HolidayBase fills itself in lazily on lookup,
    # which is not something to do from several worker threads at once.
    return frozenset(holidays.country_holidays(country, subdiv=subdiv, years=[year]))


@dataclass(frozen=True)
class Calendar:
    """The days one jurisdiction's Act counts: `unit` names them as the Act does."""

    unit: str  # "business days", "working days" or "days"
    country: str
    subdiv: str | None
    holidays_words: str
    exclusions: tuple[Exclusion, ...] = ()
    weekends_count: bool = False  # the UK Act counts every day but its holidays (s 116)

    def counts(self, day: date) -> bool:
        """Whether `day` is one of the days the Act counts."""
        if not self.weekends_count and day.weekday() >= 5:
            return False
        if day in _public_holidays(self.country, self.subdiv, day.year):
            return False
        return not any(exclusion.covers(day) for exclusion in self.exclusions)

    def after(self, start: date, count: int) -> date:
        """The `count`-th counted day after `start` (the day of the event itself is never one:
        e.g. Interpretation Act 1987 (NSW) s 36(1), HGCRA 1996 s 116(2))."""
        day = start
        while count > 0:
            day += timedelta(days=1)
            if self.counts(day):
                count -= 1
        return day

    def before(self, end: date, count: int) -> date:
        """The `count`-th counted day before `end` (a notice due "not later than N days before")."""
        day = end
        while count > 0:
            day -= timedelta(days=1)
            if self.counts(day):
                count -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """How many counted days fall after `start` up to and including `end` (0 if none)."""
        days, day = 0, start
        while day < end:
            day += timedelta(days=1)
            days += self.counts(day)
        return days

    @property
    def excluded_words(self) -> str:
        """What the count leaves out, in words, for the README and the deadline's basis."""
        parts = [] if self.weekends_count else ["Saturdays", "Sundays"]
        parts.append(self.holidays_words)
        parts.extend(exclusion.words for exclusion in self.exclusions)
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


# One calendar per jurisdiction. Public holidays are the state's or territory's own from the
# `holidays` package (which includes substitute days and, for Queensland, the Brisbane show day:
# the Acts speak of holidays "in the place" where the act is done, which the package cannot know).
CALENDARS: dict[str, Calendar] = {
    # NSW s 4(1): "business day means any day other than a Saturday, Sunday or public holiday,
    # or 27, 28, 29, 30 or 31 December".
    "AU-NSW": Calendar(
        "business days",
        "AU",
        "NSW",
        "NSW public holidays",
        (Exclusion((12, 27), (12, 31)),),
    ),
    # Vic s 4: no Christmas exclusion until the Building Legislation Amendment (Fairer Payments on
    # Jobsites and Other Matters) Act 2025 (assent 13 November 2025, in force 1 September 2026 at
    # the latest) left 22 December to 10 January out of "business day". Taken to apply from
    # 1 September 2026 (an earlier proclamation would not change any Christmas since).
    "AU-VIC": Calendar(
        "business days",
        "AU",
        "VIC",
        "Victorian public holidays",
        (Exclusion((12, 22), (1, 10), date(2026, 9, 1)),),
    ),
    # Qld schedule 2 "business day": not a Saturday, Sunday, public, special or bank holiday in
    # the place, nor any day from 22 to 24 December, 27 to 31 December or 2 to 10 January (with
    # Christmas, Boxing Day and New Year's Day, no business day from 22 December to 10 January).
    "AU-QLD": Calendar(
        "business days",
        "AU",
        "QLD",
        "Queensland public holidays",
        (
            Exclusion((12, 22), (12, 24)),
            Exclusion((12, 27), (12, 31)),
            Exclusion((1, 2), (1, 10)),
        ),
    ),
    # WA s 4 "business day": the guides read all say every jurisdiction but Victoria has a
    # Christmas blackout; WA's is taken as 27-31 December (NSW's model, which the 2021 Act
    # follows). The definition's text could not be read here: check it.
    "AU-WA": Calendar(
        "business days",
        "AU",
        "WA",
        "WA public holidays",
        (Exclusion((12, 27), (12, 31)),),
    ),
    # SA s 4 "business day": 27-31 December left out (as the day-count guides apply it); one
    # firm calls the extent of SA's holiday exclusion "uncertain". Proclamation Day (26 December)
    # is an SA public holiday anyway, so reading it as "between Christmas and New Year" gives the
    # same days. The part-day holidays (24 and 31 December from 7 pm) are not whole days off.
    "AU-SA": Calendar(
        "business days",
        "AU",
        "SA",
        "SA public holidays",
        (Exclusion((12, 27), (12, 31)),),
    ),
    # Tas s 4 "business day": not a Saturday, Sunday or statutory holiday (Statutory Holidays Act
    # 2000), nor 27, 28, 29, 30 or 31 December (added by amendment; CCF Tasmania, 2015).
    "AU-TAS": Calendar(
        "business days",
        "AU",
        "TAS",
        "Tasmanian statutory holidays",
        (Exclusion((12, 27), (12, 31)),),
    ),
    # ACT dictionary "business day": besides weekends and ACT public holidays, 27, 28, 29, 30 and
    # 31 December are not business days (law firms' holiday guides; text not read here).
    "AU-ACT": Calendar(
        "business days",
        "AU",
        "ACT",
        "ACT public holidays",
        (Exclusion((12, 27), (12, 31)),),
    ),
    # NT s 4 "working day" (from 3 February 2020): not a Saturday, Sunday or public holiday, nor
    # any day from 25 December to 7 January (NT Government; taken as inclusive of both ends).
    "AU-NT": Calendar(
        "working days",
        "AU",
        "NT",
        "NT public holidays",
        (Exclusion((12, 25), (1, 7)),),
    ),
    # NZ s 5 "working day": not a Saturday, Sunday, Waitangi Day, Good Friday, Easter Monday,
    # Anzac Day, the Sovereign's birthday, Matariki or Labour Day (Waitangi and Anzac Mondayised),
    # nor a day from 24 December to 5 January. The national holidays of the `holidays` package
    # are exactly these plus the New Year and Christmas days that the shutdown covers anyway;
    # provincial anniversary days are not in the Act's list, so no region is used.
    "NZ": Calendar(
        "working days",
        "NZ",
        None,
        "New Zealand national holidays",
        (Exclusion((12, 24), (1, 5)),),
    ),
    # UK (England and Wales): HGCRA 1996 s 116 reckons periods in days, leaving out only
    # Christmas Day, Good Friday and the bank holidays of England and Wales (Banking and
    # Financial Dealings Act 1971). Scotland and Northern Ireland have other bank holidays and
    # their own Schemes; they are not modelled.
    "UK": Calendar(
        "days",
        "GB",
        "ENG",
        "Christmas Day, Good Friday and England and Wales bank holidays",
        weekends_count=True,
    ),
    # US: no single statute; the contract's days are counted as business days, Monday to Friday
    # less the federal holidays.
    "US": Calendar("business days", "US", None, "US federal holidays"),
}
