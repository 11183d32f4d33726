"""The statement each jurisdiction's claim carries (issue 8): what the Act asks a claim to say."""

import pytest

from models.statutory import JURISDICTIONS, claim_statement

MADE_UNDER = {
    "AU-NSW": "Building and Construction Industry Security of Payment Act 1999 (NSW)",
    "AU-VIC": "Building and Construction Industry Security of Payment Act 2002 (Vic)",
    "AU-WA": "Building and Construction Industry (Security of Payment) Act 2021 (WA)",
    "AU-SA": "Building and Construction Industry Security of Payment Act 2009 (SA)",
    "AU-TAS": "Building and Construction Industry Security of Payment Act 2009 (Tas)",
    "AU-ACT": "Building and Construction Industry (Security of Payment) Act 2009 (ACT)",
    "NZ": "Construction Contracts Act 2002",
}


@pytest.mark.parametrize("jurisdiction", sorted(MADE_UNDER))
def test_acts_that_ask_for_it_get_made_under_the_act(jurisdiction):
    statement = claim_statement(jurisdiction)
    assert statement.required
    assert statement.text == f"This is a payment claim made under the {MADE_UNDER[jurisdiction]}."
    assert statement.act.startswith(MADE_UNDER[jurisdiction])


def test_nsw_cites_section_13_and_carries_the_contract_words():
    statement = claim_statement("AU-NSW")
    assert "Building and Construction Industry Security of Payment Act 1999 (NSW)" in statement.text
    assert statement.section == "s 13(2)(c)"
    assert statement.citation == (
        "Building and Construction Industry Security of Payment Act 1999 (NSW), s 13(2)(c)"
    )


def test_queensland_only_requests_payment():
    statement = claim_statement("AU-QLD")
    assert statement.text == "This payment claim requests payment of the claimed amount."
    assert "made under" not in statement.text
    assert statement.section == "s 68(1)(c)"
    assert "Building Industry Fairness" in statement.act


def test_new_zealand_comes_with_the_form_1_outline():
    statement = claim_statement("NZ")
    assert statement.outline is not None
    outline = statement.outline
    assert outline.startswith("IMPORTANT NOTICE")
    assert "section 20 of the Construction Contracts Act 2002" in outline
    assert "within 20 working days after the payment claim is served on you" in outline
    assert "Consequences of not responding to payment claim" in outline
    assert "s 20(3)" in statement.section
    assert all(claim_statement(j).outline is None for j in MADE_UNDER if j != "NZ")


def test_northern_territory_and_uk_need_no_set_words_but_name_the_law():
    nt, uk = claim_statement("AU-NT"), claim_statement("UK")
    assert not nt.required and not uk.required
    assert "Construction Contracts (Security of Payments) Act 2004 (NT)" in nt.text
    assert "sum we consider to be due and the basis" in uk.text
    assert uk.act == "Housing Grants, Construction and Regeneration Act 1996"


@pytest.mark.parametrize("jurisdiction", ["US", "none"])
def test_no_statement_where_no_law_asks_for_one(jurisdiction):
    assert claim_statement(jurisdiction) is None


def test_every_jurisdiction_is_answered_and_unknown_ones_refused():
    answered = {j for j in JURISDICTIONS if claim_statement(j) is not None}
    assert answered == set(JURISDICTIONS) - {"US", "none"}
    with pytest.raises(ValueError):
        claim_statement("AU-XYZ")
