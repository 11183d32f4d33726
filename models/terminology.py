"""Every user-facing word that differs between the contractors' dictionaries lives here."""

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from zoneinfo import available_timezones


@dataclass(frozen=True)
class Terms:
    """The words and date format of one dictionary."""

    code: str
    label: str
    claim: str
    claims: str
    contract: str
    change_order: str
    change_orders: str
    retention: str
    date_format: str
    time_zone: str  # a new company's default; each company sets its own

    def date(self, value: date) -> str:
        """A date as this dictionary writes it (day-first outside the US)."""
        return value.strftime(self.date_format)

    def moment(self, value: datetime) -> str:
        """A time stamp as this dictionary writes dates, in the value's own time zone, e.g.
        03/11/2026 09:12:05 AEDT."""
        return f"{self.date(value)} {clock(value)}"

    def summary_labels(self) -> dict[str, str]:
        """Labels of the claim summary (G702) lines, keyed by the API's field names."""
        return {
            "original_contract_sum": "Original contract sum",
            "net_change_orders": f"Net change by {self.change_orders}",
            "contract_sum_to_date": "Contract sum to date",
            "total_completed_and_stored": "Total completed and stored to date",
            "retention_work": f"{self.retention} on completed work",
            "retention_materials": f"{self.retention} on stored materials",
            "total_retention": f"Total {self.retention.lower()}",
            "total_earned_less_retention": f"Total earned less {self.retention.lower()}",
            "previous_certificates": "Less previous certificates for payment",
            "current_payment_due": "Current payment due",
            "balance_to_finish_including_retention": (
                f"Balance to finish, including {self.retention.lower()}"
            ),
        }


DICTIONARIES: dict[str, Terms] = {
    "en-US": Terms(
        "en-US",
        "General contractor (Owner Invoice, Prime Contract)",
        claim="Owner Invoice",
        claims="Owner Invoices",
        contract="Prime Contract",
        change_order="Change Order",
        change_orders="Change Orders",
        retention="Retainage",
        date_format="%m/%d/%Y",
        time_zone="America/New_York",
    ),
    "en-US-specialty": Terms(
        "en-US-specialty",
        "Specialty contractor (Client Invoice, Client Contract)",
        claim="Client Invoice",
        claims="Progress Billings",
        contract="Client Contract",
        change_order="Change Order",
        change_orders="Change Orders",
        retention="Retainage",
        date_format="%m/%d/%Y",
        time_zone="America/New_York",
    ),
    "en-AU": Terms(
        "en-AU",
        "Australia (Progress Claim, Head Contract)",
        claim="Progress Claim",
        claims="Progress Claims",
        contract="Head Contract",
        change_order="Variation",
        change_orders="Variations",
        retention="Retention",
        date_format="%d/%m/%Y",
        time_zone="Australia/Sydney",
    ),
    "en-GB": Terms(
        "en-GB",
        "United Kingdom (Payment Application, Main Contract)",
        claim="Payment Application",
        claims="Payment Applications",
        contract="Main Contract",
        change_order="Variation",
        change_orders="Variations",
        retention="Retention",
        date_format="%d/%m/%Y",
        time_zone="Europe/London",
    ),
}

DEFAULT_TERMINOLOGY = "en-AU"


def clock(value: datetime) -> str:
    """The time of day in the value's own time zone: 09:12:05 AEDT."""
    return f"{value:%H:%M:%S %Z}"


@cache
def time_zones() -> frozenset[str]:
    """The IANA time zone names, read (from the system, else tzdata) once per process."""
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone name such as Australia/Sydney."""
    return name in time_zones()


def terms_for(code: str | None) -> Terms:
    """The dictionary named by `code`, or the default one for an unknown code."""
    return DICTIONARIES.get(code or DEFAULT_TERMINOLOGY, DICTIONARIES[DEFAULT_TERMINOLOGY])


def claim_subject(
    terms: Terms, claim_number: int, contract_number: str, period_start: date, period_end: date
) -> str:
    """The default subject of a claim email: 'Progress Claim #3 for Head Contract #HC-1 - …'."""
    return (
        f"{terms.claim} #{claim_number} for {terms.contract} #{contract_number}"
        f" - {terms.date(period_start)} - {terms.date(period_end)}"
    )
