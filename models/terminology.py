"""Every user-facing word that differs between the contractors' dictionaries lives here."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from types import MappingProxyType
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
    locale: str  # how Babel writes amounts and numbers for this dictionary's readers
    currency: str  # a new company's default (ISO 4217)
    tax_name: str  # a new company's default tax, "" for none
    tax_rate_pct: Decimal
    registration: str  # what the company's registration number is called

    def date(self, value: date) -> str:
        """A date as this dictionary writes it (day-first outside the US)."""
        return value.strftime(self.date_format)

    def moment(self, value: datetime) -> str:
        """A time stamp as this dictionary writes dates, in the value's own time zone, e.g.
        03/11/2026 09:12:05 AEDT."""
        return f"{self.date(value)} {clock(value)}"

    @property
    def labels(self) -> MappingProxyType:
        """Every label of the claim's Detail, PDF and email in this dictionary (LABELS)."""
        return _labels_of(self.code)

    def summary_labels(self, tax_name: str = "") -> dict[str, str]:
        """The summary rows to show, keyed by the API's field names, in order: with a tax, the
        payment due says it excludes it and the tax and the total including it follow."""
        rows = {}
        for key in SUMMARY_ROWS:
            if key in TAX_ROWS and not tax_name:
                continue
            label = self.labels[key]
            if key == "current_payment_due" and tax_name:
                label = self.labels["current_payment_due_before_tax"]
            rows[key] = label.format(tax=tax_name)
        return rows


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
        locale="en_US",
        currency="USD",
        tax_name="",  # sales tax on construction differs by state and is rarely on the bill
        tax_rate_pct=Decimal("0"),
        registration="EIN",
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
        locale="en_US",
        currency="USD",
        tax_name="",  # sales tax on construction differs by state and is rarely on the bill
        tax_rate_pct=Decimal("0"),
        registration="EIN",
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
        locale="en_AU",
        currency="AUD",
        # GST is 10% of the value of a taxable supply: A New Tax System (Goods and Services
        # Tax) Act 1999 (Cth) s 9-70. Claims are priced excluding it, with it added below.
        tax_name="GST",
        tax_rate_pct=Decimal("10"),
        registration="ABN",
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
        locale="en_GB",
        currency="GBP",
        # The standard rate of VAT, 20%: Value Added Tax Act 1994 s 2(1). (Some construction
        # work is zero-rated or under the domestic reverse charge: the company sets its own.)
        tax_name="VAT",
        tax_rate_pct=Decimal("20"),
        registration="Company number",
    ),
}

US, US_SPECIALTY, AU, GB = "en-US", "en-US-specialty", "en-AU", "en-GB"

# Every label of the claim's Detail tab, its PDF and its email, per dictionary. The US
# dictionaries follow AIA's G702 (application and certificate for payment) and G703
# (continuation sheet). Australian claims are worded as AS 4000 / AS 2124 contracts and the
# usual progress claim forms word them: a contract sum adjusted by variations, "previously
# claimed" and "this claim" per line, "materials on site", the amount of this claim excluding
# GST with GST added below. UK applications follow JCT's interim valuations: the gross
# valuation, retention, amounts previously certified and the amount due, with VAT added.
# `{tax}` is the company's tax name (GST, VAT...).
LABELS: dict[str, dict[str, str]] = {
    # --- the summary, keyed by the API's summary fields ---
    "original_contract_sum": {
        US: "Original contract sum",
        US_SPECIALTY: "Original contract sum",
        AU: "Contract sum",
        GB: "Contract sum",
    },
    "net_change_orders": {
        US: "Net change by Change Orders",
        US_SPECIALTY: "Net change by Change Orders",
        AU: "Approved variations",
        GB: "Variations",
    },
    "contract_sum_to_date": {
        US: "Contract sum to date",
        US_SPECIALTY: "Contract sum to date",
        AU: "Adjusted contract sum",
        GB: "Adjusted contract sum",
    },
    "total_completed_and_stored": {
        US: "Total completed and stored to date",
        US_SPECIALTY: "Total completed and stored to date",
        AU: "Work completed and materials on site to date",
        GB: "Gross valuation",
    },
    "retention_work": {
        US: "Retainage on completed work",
        US_SPECIALTY: "Retainage on completed work",
        AU: "Retention on work completed",
        GB: "Retention on work executed",
    },
    "retention_materials": {
        US: "Retainage on stored materials",
        US_SPECIALTY: "Retainage on stored materials",
        AU: "Retention on materials on site",
        GB: "Retention on materials on site",
    },
    "total_retention": {
        US: "Total retainage",
        US_SPECIALTY: "Total retainage",
        AU: "Less retention",
        GB: "Less retention",
    },
    "total_earned_less_retention": {
        US: "Total earned less retainage",
        US_SPECIALTY: "Total earned less retainage",
        AU: "Claimed to date less retention",
        GB: "Net valuation",
    },
    "previous_certificates": {
        US: "Less previous certificates for payment",
        US_SPECIALTY: "Less previous certificates for payment",
        AU: "Less amounts previously certified",
        GB: "Less amounts previously certified",
    },
    "current_payment_due": {
        US: "Current payment due",
        US_SPECIALTY: "Current payment due",
        AU: "Amount of this claim",
        GB: "Amount due this application",
    },
    "current_payment_due_before_tax": {
        US: "Current payment due, excluding {tax}",
        US_SPECIALTY: "Current payment due, excluding {tax}",
        AU: "Amount of this claim, excluding {tax}",
        GB: "Amount due this application, excluding {tax}",
    },
    "tax_on_current_payment_due": {
        US: "{tax} on current payment due",
        US_SPECIALTY: "{tax} on current payment due",
        AU: "{tax} on this claim",
        GB: "{tax} on this application",
    },
    "current_payment_due_including_tax": {
        US: "Current payment due, including {tax}",
        US_SPECIALTY: "Current payment due, including {tax}",
        AU: "Total of this claim, including {tax}",
        GB: "Total due this application, including {tax}",
    },
    "balance_to_finish_including_retention": {
        US: "Balance to finish, including retainage",
        US_SPECIALTY: "Balance to finish, including retainage",
        AU: "Balance to complete, including retention",
        GB: "Balance to complete, including retention",
    },
    # --- the line table, keyed by the API's line fields ---
    "item": {US: "Item no.", US_SPECIALTY: "Item no.", AU: "Item", GB: "Item"},
    "description": {
        US: "Description of work",
        US_SPECIALTY: "Description of work",
        AU: "Description",
        GB: "Description",
    },
    "scheduled_value": {
        US: "Scheduled value",
        US_SPECIALTY: "Scheduled value",
        AU: "Contract value",
        GB: "Contract value",
    },
    "previous": {
        US: "From previous application",
        US_SPECIALTY: "From previous billings",
        AU: "Previously claimed",
        GB: "Previously valued",
    },
    "this_period": {
        US: "This period",
        US_SPECIALTY: "This period",
        AU: "This claim",
        GB: "This application",
    },
    "materials_stored": {
        US: "Materials presently stored",
        US_SPECIALTY: "Materials presently stored",
        AU: "Materials on site",
        GB: "Materials on site",
    },
    "completed_and_stored": {
        US: "Total completed and stored to date",
        US_SPECIALTY: "Total completed and stored to date",
        AU: "Claimed to date",
        GB: "Valued to date",
    },
    "percent": {US: "%", US_SPECIALTY: "%", AU: "% complete", GB: "% complete"},
    "balance": {
        US: "Balance to finish",
        US_SPECIALTY: "Balance to finish",
        AU: "Balance to complete",
        GB: "Balance to complete",
    },
    "retention": {US: "Retainage", US_SPECIALTY: "Retainage", AU: "Retention", GB: "Retention"},
    "totals": {US: "Totals", US_SPECIALTY: "Totals", AU: "Totals", GB: "Totals"},
    # --- headings and the document around the figures ---
    "summary_heading": {
        US: "Application for payment",
        US_SPECIALTY: "Application for payment",
        AU: "Claim summary",
        GB: "Valuation summary",
    },
    "lines_heading": {
        US: "Schedule of values",
        US_SPECIALTY: "Schedule of values",
        AU: "Claim breakdown",
        GB: "Valuation breakdown",
    },
    # A line of the head contract's schedule (the contract's form): AIA's schedule of values,
    # an Australian contract's breakdown, JCT's contract sum analysis.
    "contract_line": {
        US: "Schedule of values line",
        US_SPECIALTY: "Schedule of values line",
        AU: "Contract breakdown line",
        GB: "Contract sum analysis line",
    },
    "claim_date": {
        US: "Application date",
        US_SPECIALTY: "Invoice date",
        AU: "Date of claim",
        GB: "Date of application",
    },
    "period": {
        US: "Period",
        US_SPECIALTY: "Billing period",
        AU: "Claim period",
        GB: "Valuation period",
    },
    "client": {US: "Owner", US_SPECIALTY: "Client", AU: "Client", GB: "Client"},
    "project": {US: "Project", US_SPECIALTY: "Project", AU: "Project", GB: "Project"},
    "draft": {
        US: "DRAFT: current figures, not yet submitted",
        US_SPECIALTY: "DRAFT: current figures, not yet submitted",
        AU: "DRAFT: current figures, not yet submitted",
        GB: "DRAFT: current figures, not yet submitted",
    },
    "page_of": {
        US: "Page {page} of {pages}",
        US_SPECIALTY: "Page {page} of {pages}",
        AU: "Page {page} of {pages}",
        GB: "Page {page} of {pages}",
    },
    "reference": {US: "Ref.", US_SPECIALTY: "Ref.", AU: "Ref.", GB: "Ref."},
}

# The summary rows in the order a claim shows them; the tax rows only with a tax.
SUMMARY_ROWS = (
    "original_contract_sum",
    "net_change_orders",
    "contract_sum_to_date",
    "total_completed_and_stored",
    "retention_work",
    "retention_materials",
    "total_retention",
    "total_earned_less_retention",
    "previous_certificates",
    "current_payment_due",
    "tax_on_current_payment_due",
    "current_payment_due_including_tax",
    "balance_to_finish_including_retention",
)
TAX_ROWS = ("tax_on_current_payment_due", "current_payment_due_including_tax")


@cache
def _labels_of(code: str) -> MappingProxyType:
    return MappingProxyType({key: words[code] for key, words in LABELS.items()})


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
