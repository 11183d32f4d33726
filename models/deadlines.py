"""The statutory clock of a claim: when it counts as served and what falls due after it.

`RULES` is the one table of the rules per jurisdiction: each period, what it counts from, whether
the Act caps the contract's own period, and the Act and section it comes from. The days counted
(weekends, public holidays, each Act's Christmas exclusion) are in models/calendars.py. Pure
functions of dates and times: no database, no Flask.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from models.calendars import CALENDARS, Calendar
from models.statutory import (
    ACT_ACT,
    JURISDICTIONS,
    NSW_ACT,
    NT_ACT,
    NZ_ACT,
    QLD_ACT,
    SA_ACT,
    TAS_ACT,
    UK_ACT,
    VIC_ACT,
    WA_ACT,
)

SCHEDULE_FIELD = "payment_schedule_business_days"
DUE_FIELD = "payment_due_business_days"
VIC_2025 = (
    "the Building Legislation Amendment (Fairer Payments on Jobsites and Other Matters) Act 2025"
)
UK_SCHEME = "Scheme for Construction Contracts (England and Wales) Regulations 1998, Part II"


@dataclass(frozen=True)
class Period:
    """One statutory period. `days` is the Act's period where the contract sets none (None: only
    the contract can set one). `cap` is the longest period the Act lets the contract set (None:
    the contract's own period stands, longer or shorter), cited in full by `cap_section` when
    another provision sets it. `contract_field` names the head contract's own period.
    `counts_from` is "service" or the kind of an earlier deadline; `before` counts back from it
    instead of forward."""

    kind: str
    days: int | None
    counts_from: str
    cap: int | None
    contract_field: str | None
    act: str
    section: str
    cap_section: str | None = None
    before: bool = False


@dataclass(frozen=True)
class Rules:
    """What one jurisdiction's Act sets: its calendar, the time zone its days are reckoned in,
    why service is when the mail server accepted the claim, and its periods in order."""

    calendar: Calendar
    time_zone: str
    service_authority: str
    periods: tuple[Period, ...]


# Service: no Act here puts service after hours or on a non-business day off to a later day. The
# NSW Court of Appeal held a contract's "after 5 pm means next business day" clause void under
# the NSW Act (Roberts Co (NSW) Pty Ltd v Sharvain Facades Pty Ltd [2025] NSWCA 161: a claim
# emailed at 7.18 pm on a Friday was served that Friday), and the WA Supreme Court held a claim
# emailed on a Saturday was received that Saturday (Martinus Rail Pty Ltd v Co-Operative Bulk
# Handling Ltd [2025] WASC 373). An email is received when it can be retrieved at the address the
# recipient designated (Electronic Transactions Act 2000 (NSW) s 13A and its equivalents), which
# the SMTP 250 of the recipient's server marks. The periods then count days *after* the day of
# service, so a claim served on a Saturday starts its count on the next counted day.
_SHARVAIN = "Roberts Co (NSW) Pty Ltd v Sharvain Facades Pty Ltd [2025] NSWCA 161"
_MARTINUS = "Martinus Rail Pty Ltd v Co-Operative Bulk Handling Ltd [2025] WASC 373"


def _au_service(authority: str) -> str:
    return (
        "served when the recipient's mail server accepted it; the Act does not move service "
        f"after hours or on a non-business day to a later day ({authority})"
    )


def _au(
    jurisdiction: str,
    time_zone: str,
    act: str,
    schedule: tuple[int, str],
    due: tuple[int, str, int | None, str | None],
) -> Rules:
    """An east-coast style Act: a payment schedule within N business days after service or the
    contract's earlier time ("whichever expires earlier", so the Act's days are a cap), and a
    due date for payment."""
    schedule_days, schedule_section = schedule
    due_days, due_section, due_cap, cap_section = due
    return Rules(
        CALENDARS[jurisdiction],
        time_zone,
        _au_service(
            {"AU-NSW": _SHARVAIN, "AU-WA": _MARTINUS}.get(
                jurisdiction, f"as held of the NSW and WA Acts: {_SHARVAIN}; {_MARTINUS}"
            )
        ),
        (
            Period(
                "payment_schedule",
                schedule_days,
                "service",
                schedule_days,
                SCHEDULE_FIELD,
                act,
                schedule_section,
            ),
            Period(
                "payment_due",
                due_days,
                "service",
                due_cap,
                DUE_FIELD,
                act,
                due_section,
                cap_section,
            ),
        ),
    )


RULES: dict[str, Rules] = {
    # NSW s 14(4)(b): payment schedule within the contract's time or 10 business days after the
    # claim is served, whichever expires earlier. s 11(1A): a head contractor's progress payment
    # is due 15 business days after the claim is made, or earlier if the contract says so.
    "AU-NSW": _au(
        "AU-NSW", "Australia/Sydney", NSW_ACT, (10, "s 14(4)(b)"), (15, "s 11(1A)", 15, None)
    ),
    # Vic s 15(4)(b): 10 business days, or the contract's earlier time. s 12(2): due on the
    # contract's date, else 10 business days after the claim is made; the 2025 amending Act
    # limits payment terms to 20 business days (the section as amended was not read here).
    "AU-VIC": _au(
        "AU-VIC",
        "Australia/Melbourne",
        VIC_ACT,
        (10, "s 15(4)(b)"),
        (10, "s 12(2)", 20, f"{VIC_ACT} s 12, as amended by {VIC_2025}"),
    ),
    # Qld s 76(1): payment schedule within the contract's period or 15 business days after the
    # claim is given, whichever ends first. s 73(1): due on the contract's day, else 10 business
    # days after the claim; for building contracts the Queensland Building and Construction
    # Commission Act 1991 s 67U makes a term beyond 15 business days of no effect.
    "AU-QLD": _au(
        "AU-QLD",
        "Australia/Brisbane",
        QLD_ACT,
        (15, "s 76(1)"),
        (10, "s 73(1)", 15, "Queensland Building and Construction Commission Act 1991 s 67U"),
    ),
    # WA s 25: payment schedule within 15 business days after the claim is made, or the
    # contract's earlier time. s 20: a head contractor's payment is due at the latest 20 business
    # days after the claim is made (25 for subcontracts), earlier if the contract says so.
    "AU-WA": _au("AU-WA", "Australia/Perth", WA_ACT, (15, "s 25"), (20, "s 20", 20, None)),
    # SA s 14(4)(b): 15 business days, or the contract's earlier time. s 12(2): due on the
    # contract's date, else 15 business days after the claim is made (no cap: the 2021 Bill
    # that would have capped terms at 25 business days lapsed).
    "AU-SA": _au(
        "AU-SA", "Australia/Adelaide", SA_ACT, (15, "s 14(4)(b)"), (15, "s 12(2)", None, None)
    ),
    # Tas s 18: payment schedule within 10 business days (20 where the claim is for a
    # residential structure; not modelled) or the contract's earlier time. s 15: due on the
    # contract's date, else 10 business days after the claim is made.
    "AU-TAS": _au("AU-TAS", "Australia/Hobart", TAS_ACT, (10, "s 18"), (10, "s 15", None, None)),
    # ACT s 16(4): 10 business days after the claim is served, or the contract's earlier time.
    # s 13 (as amended from 11 March 2024): due at the earlier of the contract's day and
    # 15 business days after the claim is received.
    "AU-ACT": _au("AU-ACT", "Australia/Sydney", ACT_ACT, (10, "s 16(4)"), (15, "s 13", 15, None)),
    # NT: no payment schedule. Where the contract is silent the Act implies a response (notice
    # of dispute) within 10 working days and payment within 20 working days of the claim; s 13
    # reads a longer payment term down. One guide gives 30 working days for s 13; the implied
    # 20 is used, and both figures should be checked against the Act.
    "AU-NT": Rules(
        CALENDARS["AU-NT"],
        "Australia/Darwin",
        _au_service(f"as held of the NSW and WA Acts: {_SHARVAIN}; {_MARTINUS}"),
        (
            Period("response", 10, "service", None, SCHEDULE_FIELD, NT_ACT, "Schedule (implied)"),
            Period("payment_due", 20, "service", 20, DUE_FIELD, NT_ACT, "s 13"),
        ),
    ),
    # NZ s 22: a payment schedule (the response) within the contract's time or, if the contract
    # sets none, 20 working days after the claim is served. s 18 (default provisions): payment
    # is due 20 working days after the claim is served unless the contract says otherwise. The
    # Act lets the contract set either period, longer or shorter.
    "NZ": Rules(
        CALENDARS["NZ"],
        "Pacific/Auckland",
        "served when the recipient's mail server accepted it (s 80 and the Contract and "
        "Commercial Law Act 2017 s 215: received when it enters the designated system); no "
        "after-hours rule moves it",
        (
            Period("response", 20, "service", None, SCHEDULE_FIELD, NZ_ACT, "s 22"),
            Period("payment_due", 20, "service", None, DUE_FIELD, NZ_ACT, "s 18"),
        ),
    ),
    # UK (England and Wales, the Scheme's default terms): payment falls due on the later of
    # 7 days after the period ends and the making of the claim (Scheme para 4); the payer's
    # payment notice within 5 days after that due date (HGCRA s 110A(2)); the final date for
    # payment 17 days after the due date (Scheme para 8(2)) unless the contract sets its own
    # (s 110(1)(b)); a pay less notice at the latest 7 days before the final date (Scheme
    # para 10; s 111(3)). Days are reckoned by s 116.
    "UK": Rules(
        CALENDARS["UK"],
        "Europe/London",
        "served when the recipient's mail server accepted it (s 115: any effective means; no "
        "rule moves it)",
        (
            Period("payment_notice", 5, "payment_due_date", None, None, UK_ACT, "s 110A(2)"),
            Period(
                "final_date_for_payment",
                17,
                "payment_due_date",
                None,
                DUE_FIELD,
                UK_SCHEME,
                "para 8(2)",
            ),
            Period(
                "pay_less_notice",
                7,
                "final_date_for_payment",
                None,
                None,
                UK_SCHEME,
                "para 10",
                before=True,
            ),
        ),
    ),
    # US: prompt payment laws differ by state and by public or private work; only the
    # contract's own days are used (payment_due_business_days), counted as business days.
    "US": Rules(
        CALENDARS["US"],
        "America/New_York",
        "served when the recipient's mail server accepted it",
        (
            Period(
                "payment_due", None, "service", None, DUE_FIELD, "the contract's payment terms", ""
            ),
        ),
    ),
}


@dataclass(frozen=True)
class Service:
    """When a claim counts as served, in the jurisdiction's local time, and why."""

    jurisdiction: str
    at: datetime
    basis: str

    @property
    def on(self) -> date:
        return self.at.date()


@dataclass(frozen=True)
class Deadline:
    """One deadline of a claim: CONTRACT.md's kind, the last day, and how it was worked out."""

    jurisdiction: str
    kind: str
    due: date
    days: int
    counted_from: date
    basis: str

    def is_overdue(self, as_of: date) -> bool:
        return as_of > self.due


def format_day(day: date) -> str:
    """A date as the basis words write it: "Tue 1 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def service_of(accepted_at: datetime, jurisdiction: str) -> Service:
    """When a claim counts as served: the time the recipient's mail server accepted it (the
    SMTP 250 we recorded), in the jurisdiction's time zone. A naive time is taken as UTC (how the
    database hands back stored UTC times on SQLite)."""
    if accepted_at.tzinfo is None:
        accepted_at = accepted_at.replace(tzinfo=UTC)
    rules = RULES.get(jurisdiction)
    if rules is None:
        _known(jurisdiction)
        at = accepted_at.astimezone(UTC)
        return Service(jurisdiction, at, "accepted by the recipient's mail server (no Act)")
    at = accepted_at.astimezone(ZoneInfo(rules.time_zone))
    stamp = f"{format_day(at.date())} {at:%H:%M %Z}"
    return Service(jurisdiction, at, f"{stamp}: {rules.service_authority}")


def deadlines_of(
    jurisdiction: str,
    served: Service,
    *,
    payment_schedule_business_days: int | None = None,
    payment_due_business_days: int | None = None,
    period_end: date | None = None,
) -> list[Deadline]:
    """The deadlines a claim served at `served` starts under `jurisdiction`'s Act, in order,
    with the contract's own periods (the head contract's fields of the same names; for the UK
    `payment_due_business_days` is the contract's days from the due date to the final date for
    payment). `period_end` is the end of the claim's period, from which the UK due date counts.
    None for `none`; for the US only when the contract sets its days."""
    rules = RULES.get(jurisdiction)
    if rules is None:
        _known(jurisdiction)
        return []
    contract = {
        SCHEDULE_FIELD: payment_schedule_business_days,
        DUE_FIELD: payment_due_business_days,
    }
    # What each period counts from: a day and how the basis words name it.
    anchors = {"service": (served.on, f"service on {format_day(served.on)}")}
    if jurisdiction == "UK":
        anchors["payment_due_date"] = _uk_due_date(rules.calendar, served.on, period_end)
    deadlines = []
    for period in rules.periods:
        days, whose = _days(period, contract.get(period.contract_field), rules.calendar.unit)
        if days is None:
            continue
        start, start_words = anchors[period.counts_from]
        if period.before:
            due, direction = rules.calendar.before(start, days), "before"
        else:
            due, direction = rules.calendar.after(start, days), "after"
        basis = f"{days} {rules.calendar.unit} {direction} {start_words}, {whose}"
        deadlines.append(Deadline(jurisdiction, period.kind, due, days, start, basis))
        anchors[period.kind] = (due, f"the {period.kind.replace('_', ' ')} {format_day(due)}")
    return deadlines


def _days(period: Period, contract_days: int | None, unit: str) -> tuple[int | None, str]:
    """The period that applies and, in words, whose it is, with the Act and section."""
    law = f"{period.act} {period.section}".strip()
    if contract_days is None or period.contract_field is None:
        return period.days, law
    if contract_days < 0:
        raise ValueError(f"{period.contract_field} must not be negative")
    if period.days is None:
        return contract_days, "the contract's period"
    cap_law = period.cap_section or law
    if period.cap is not None and contract_days > period.cap:
        return (
            period.cap,
            f"{cap_law} (the contract's {contract_days} {unit} are more than it allows)",
        )
    if contract_days == period.days:
        return period.days, law
    if period.cap is not None:
        return contract_days, f"the contract's period (at most {period.cap}: {cap_law})"
    return contract_days, f"the contract's period (in place of the {period.days} of {law})"


def _uk_due_date(calendar: Calendar, claimed: date, period_end: date | None) -> tuple[date, str]:
    """Scheme para 4: the later of 7 days after the period's end and the making of the claim."""
    due = max(calendar.after(period_end, 7), claimed) if period_end else claimed
    words = f"the payment due date {format_day(due)} ({UK_SCHEME} para 4: "
    if period_end:
        words += f"the later of 7 days after the period ended {format_day(period_end)} and "
    return due, words + "the claim)"


def _known(jurisdiction: str) -> None:
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"unknown jurisdiction {jurisdiction!r}")


def business_days_left(deadline: Deadline, as_of: date) -> int:
    """Counted days left to `deadline` as of `as_of`: 0 on the day itself, negative once past
    (counted days late). A day past the deadline that is not counted (a weekend) gives 0 too:
    `deadline.is_overdue(as_of)` says whether it has passed."""
    calendar = RULES[deadline.jurisdiction].calendar
    if as_of <= deadline.due:
        return calendar.between(as_of, deadline.due)
    return -calendar.between(deadline.due, as_of)
