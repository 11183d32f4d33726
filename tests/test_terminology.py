"""Each company bills in its own words: the four dictionaries of CONTRACT.md."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from models import Company, ProgressClaim
from models.terminology import DICTIONARIES, LABELS, claim_subject, terms_for
from tests.contract_fields import LINE_FIELDS, SUMMARY_FIELDS
from web.extensions import db

OCT_1, OCT_31 = date(2026, 10, 1), date(2026, 10, 31)


def test_the_four_dictionaries_of_the_contract():
    assert set(DICTIONARIES) == {"en-US", "en-US-specialty", "en-AU", "en-GB"}
    words = {
        code: (t.claim, t.claims, t.contract, t.change_order, t.retention)
        for code, t in DICTIONARIES.items()
    }
    assert words == {
        "en-US": ("Owner Invoice", "Owner Invoices", "Prime Contract", "Change Order", "Retainage"),
        "en-US-specialty": (
            "Client Invoice",
            "Progress Billings",
            "Client Contract",
            "Change Order",
            "Retainage",
        ),
        "en-AU": ("Progress Claim", "Progress Claims", "Head Contract", "Variation", "Retention"),
        "en-GB": (
            "Payment Application",
            "Payment Applications",
            "Main Contract",
            "Variation",
            "Retention",
        ),
    }


@pytest.mark.parametrize(
    "code, subject",
    [
        ("en-AU", "Progress Claim #3 for Head Contract #HC-1 - 01/10/2026 - 31/10/2026"),
        ("en-US", "Owner Invoice #3 for Prime Contract #HC-1 - 10/01/2026 - 10/31/2026"),
        ("en-GB", "Payment Application #3 for Main Contract #HC-1 - 01/10/2026 - 31/10/2026"),
        (
            "en-US-specialty",
            "Client Invoice #3 for Client Contract #HC-1 - 10/01/2026 - 10/31/2026",
        ),
    ],
)
def test_subject_line_in_each_dictionary(code, subject):
    assert claim_subject(terms_for(code), 3, "HC-1", OCT_1, OCT_31) == subject


def test_dates_are_zero_padded_day_first_outside_the_us():
    march_5 = date(2026, 3, 5)
    assert terms_for("en-AU").date(march_5) == "05/03/2026"
    assert terms_for("en-GB").date(march_5) == "05/03/2026"
    assert terms_for("en-US").date(march_5) == "03/05/2026"


SUMMARY_KEYS = SUMMARY_FIELDS
TAX_KEYS = ["tax_on_current_payment_due", "current_payment_due_including_tax"]


@pytest.mark.parametrize("code", sorted(DICTIONARIES))
def test_summary_labels_cover_the_api_summary_fields_in_order(code):
    # With a tax every summary field of the API has its row; without, the two tax rows go.
    assert list(terms_for(code).summary_labels("GST")) == SUMMARY_KEYS
    assert list(terms_for(code).summary_labels()) == [k for k in SUMMARY_KEYS if k not in TAX_KEYS]


@pytest.mark.parametrize("code", sorted(DICTIONARIES))
def test_every_label_is_worded_in_every_dictionary(code):
    labels = terms_for(code).labels
    assert set(labels) == set(LABELS)
    assert all(text.strip() and text == text.strip() for text in labels.values())
    # The line table's columns are all there, keyed as the API's line fields.
    assert set(LINE_FIELDS) <= set(labels)


@pytest.mark.parametrize(
    "code, words",
    [
        (
            "en-AU",
            {
                "original_contract_sum": "Contract sum",
                "net_change_orders": "Approved variations",
                "contract_sum_to_date": "Adjusted contract sum",
                "total_retention": "Less retention",
                "previous_certificates": "Less amounts previously certified",
                "current_payment_due": "Amount of this claim, excluding GST",
                "tax_on_current_payment_due": "GST on this claim",
                "current_payment_due_including_tax": "Total of this claim, including GST",
                "balance_to_finish_including_retention": "Balance to complete, including retention",
            },
        ),
        (
            "en-GB",
            {
                "total_completed_and_stored": "Gross valuation",
                "total_earned_less_retention": "Net valuation",
                "previous_certificates": "Less amounts previously certified",
                "current_payment_due": "Amount due this application, excluding VAT",
            },
        ),
        (
            "en-US",
            {
                "original_contract_sum": "Original contract sum",
                "net_change_orders": "Net change by Change Orders",
                "total_retention": "Total retainage",
                "previous_certificates": "Less previous certificates for payment",
                "balance_to_finish_including_retention": "Balance to finish, including retainage",
            },
        ),
    ],
)
def test_summary_labels_use_the_dictionarys_words(code, words):
    terms = terms_for(code)
    labels = terms.summary_labels(terms.tax_name or "Sales tax")
    assert {key: labels[key] for key in words} == words


@pytest.mark.parametrize(
    "code, columns",
    [
        (
            "en-AU",
            [
                "Item",
                "Description",
                "Contract value",
                "Previously claimed",
                "This claim",
                "Materials on site",
                "Claimed to date",
                "% complete",
                "Balance to complete",
                "Retention",
            ],
        ),
        (
            "en-GB",
            [
                "Item",
                "Description",
                "Contract value",
                "Previously valued",
                "This application",
                "Materials on site",
                "Valued to date",
                "% complete",
                "Balance to complete",
                "Retention",
            ],
        ),
        (
            "en-US",
            [
                "Item no.",
                "Description of work",
                "Scheduled value",
                "From previous application",
                "This period",
                "Materials presently stored",
                "Total completed and stored to date",
                "%",
                "Balance to finish",
                "Retainage",
            ],
        ),
    ],
)
def test_line_table_columns_in_each_dictionary(code, columns):
    labels = terms_for(code).labels
    assert [labels[field] for field in LINE_FIELDS] == columns


# The US forms' (AIA G702/G703) wording that an Australian or UK claim must not use.
US_ONLY = (
    "Less previous certificates for payment",
    "Schedule of values",
    "Net change by",
    "presently stored",
    "Retainage",
    "Change Order",
    "Owner",
)


@pytest.mark.parametrize("code", ["en-AU", "en-GB"])
def test_australian_and_uk_claims_never_use_us_wording(code):
    words = " | ".join(terms_for(code).labels.values())
    assert not [phrase for phrase in US_ONLY if phrase.lower() in words.lower()]


@pytest.mark.parametrize("code", ["en-US", "en-US-specialty"])
def test_us_claims_never_use_australian_or_uk_wording(code):
    words = " | ".join(terms_for(code).labels.values()).lower()
    assert not [w for w in ("variation", "retention", "materials on site") if w in words]


@pytest.mark.parametrize(
    "code, registration, currency, tax, rate",
    [
        ("en-AU", "ABN", "AUD", "GST", "10"),
        ("en-GB", "Company number", "GBP", "VAT", "20"),
        ("en-US", "EIN", "USD", "", "0"),
        ("en-US-specialty", "EIN", "USD", "", "0"),
    ],
)
def test_each_dictionary_names_its_registration_currency_and_tax(
    code, registration, currency, tax, rate
):
    terms = terms_for(code)
    assert (terms.registration, terms.currency, terms.tax_name) == (registration, currency, tax)
    assert terms.tax_rate_pct == Decimal(rate)


@pytest.mark.parametrize("code", ["fr-FR", "en-au", "", None])
def test_an_unknown_code_falls_back_to_en_au(code):
    terms = terms_for(code)
    assert (terms.code, terms.claim, terms.contract) == ("en-AU", "Progress Claim", "Head Contract")


@pytest.mark.parametrize(
    "code, subject, name",
    [
        (
            "en-AU",
            "Progress Claim #3 for Head Contract #HC-1 - 01/10/2026 - 31/10/2026",
            "Progress Claim #3 (HC-1)",
        ),
        (
            "en-US",
            "Owner Invoice #3 for Prime Contract #HC-1 - 10/01/2026 - 10/31/2026",
            "Owner Invoice #3 (HC-1)",
        ),
        (
            "en-GB",
            "Payment Application #3 for Main Contract #HC-1 - 01/10/2026 - 31/10/2026",
            "Payment Application #3 (HC-1)",
        ),
        (
            "nonsense",
            "Progress Claim #3 for Head Contract #HC-1 - 01/10/2026 - 31/10/2026",
            "Progress Claim #3 (HC-1)",
        ),
    ],
)
def test_a_claim_speaks_its_companys_words(demo, code, subject, name):
    company = db.session.get(Company, demo["company_id"])
    company.terminology = code
    db.session.commit()
    db.session.expire_all()
    claim = db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )
    assert claim.subject == subject
    assert str(claim) == name


@pytest.mark.parametrize(
    ("code", "words", "absent"),
    [
        (
            "en-US",
            ["Retainage on work %", "Add Change Order", "Add Schedule of values line"],
            ["Retention", "Variation"],
        ),
        (
            "en-AU",
            ["Retention on work %", "Add Variation", "Add Contract breakdown line"],
            ["Retainage", "Change Order", "Schedule of values"],
        ),
        (
            "en-GB",
            ["Retention on work %", "Add Variation", "Add Contract sum analysis line"],
            ["Retainage", "Change Order", "Schedule of values"],
        ),
    ],
)
def test_the_contract_pages_speak_the_companys_words(login, demo, code, words, absent):
    company = db.session.get(Company, demo["company_id"])
    company.terminology = code
    db.session.commit()
    client = login("admin@harbourside.example", "claimpost-demo")
    contract_id = demo["projects"][0]["head_contracts"][0]["id"]
    pages = client.get("/admin/contracts/").get_data(as_text=True) + client.get(
        f"/admin/contracts/edit/?id={contract_id}"
    ).get_data(as_text=True)
    assert all(word in pages for word in words)
    assert not any(word in pages for word in absent)
    claims = client.get("/admin/claims/").get_data(as_text=True)
    assert ("10/01/2026" if code == "en-US" else "01/10/2026") in claims  # claim 1's start


@pytest.mark.parametrize(
    ("code", "zone", "stamp"),
    [
        ("en-US", "America/New_York", "11/03/2026 09:12:05 EST"),
        ("en-AU", "Australia/Sydney", "03/11/2026 09:12:05 AEDT"),
    ],
)
def test_time_stamps_are_written_the_dictionarys_way(code, zone, stamp):
    moment = datetime(2026, 11, 3, 9, 12, 5, tzinfo=ZoneInfo(zone))
    assert terms_for(code).moment(moment) == stamp
