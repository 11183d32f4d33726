"""Each company bills in its own words: the four dictionaries of CONTRACT.md."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from models import Company, ProgressClaim
from models.terminology import DICTIONARIES, claim_subject, terms_for
from tests.contract_fields import SUMMARY_FIELDS
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


@pytest.mark.parametrize("code", sorted(DICTIONARIES))
def test_summary_labels_cover_the_api_summary_fields_in_order(code):
    assert list(terms_for(code).summary_labels()) == SUMMARY_KEYS


@pytest.mark.parametrize(
    "code, change_orders, retention_work, total_retention, balance",
    [
        (
            "en-AU",
            "Net change by Variations",
            "Retention on completed work",
            "Total retention",
            "Balance to finish, including retention",
        ),
        (
            "en-GB",
            "Net change by Variations",
            "Retention on completed work",
            "Total retention",
            "Balance to finish, including retention",
        ),
        (
            "en-US",
            "Net change by Change Orders",
            "Retainage on completed work",
            "Total retainage",
            "Balance to finish, including retainage",
        ),
        (
            "en-US-specialty",
            "Net change by Change Orders",
            "Retainage on completed work",
            "Total retainage",
            "Balance to finish, including retainage",
        ),
    ],
)
def test_summary_labels_use_the_dictionarys_words(
    code, change_orders, retention_work, total_retention, balance
):
    labels = terms_for(code).summary_labels()
    assert labels["net_change_orders"] == change_orders
    assert labels["retention_work"] == retention_work
    assert labels["total_retention"] == total_retention
    assert labels["total_earned_less_retention"] == f"Total earned less {total_retention[6:]}"
    assert labels["balance_to_finish_including_retention"] == balance
    # No label slips into another dictionary's words.
    foreign = (
        ("Change Order", "Retainage", "retainage")
        if code in ("en-AU", "en-GB")
        else (
            "Variation",
            "Retention",
            "retention",
        )
    )
    assert not [label for label in labels.values() if any(w in label for w in foreign)]


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
        ("en-US", ["Retainage on work %", "Add Change Order"], ["Retention", "Variation"]),
        ("en-AU", ["Retention on work %", "Add Variation"], ["Retainage", "Change Order"]),
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
