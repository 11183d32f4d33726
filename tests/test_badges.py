"""Status badges: one spelling and one colour per claim status and per email state, from
web/badges.py, on every page that shows them and in the live updates (issue 10)."""

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import Communication, ProgressClaim
from models.claim import ClaimStatus, change_claim_status
from models.communication import EmailState, move
from tests.test_emails_web import ADMIN, DEMO_PASSWORD, PM, compose, contact_id
from web.badges import (
    CLAIM_STATUS_COLOURS,
    EMAIL_STATE_COLOURS,
    claim_status_badge,
    email_state_badge,
)
from web.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def test_every_status_and_state_has_one_colour_and_one_spelling():
    assert set(CLAIM_STATUS_COLOURS) == set(ClaimStatus)
    assert set(EMAIL_STATE_COLOURS) == set(EmailState)
    assert [s.label for s in ClaimStatus] == [
        "Draft",
        "Under review",
        "Revise and resubmit",
        "Approved",
    ]
    # The claim's colours tell the statuses apart; the email's tell failed from sent.
    assert len(set(CLAIM_STATUS_COLOURS.values())) == len(ClaimStatus)
    assert EMAIL_STATE_COLOURS[EmailState.FAILED] != EMAIL_STATE_COLOURS[EmailState.SENT]
    assert str(claim_status_badge("revise_and_resubmit")) == (
        '<span class="badge badge-warning" data-status="revise_and_resubmit">'
        "Revise and resubmit</span>"
    )
    assert 'class="badge badge-danger"' in email_state_badge("failed")


def test_no_template_spells_or_colours_a_status_itself():
    """Templates draw statuses with the badge helpers, never their own words or colours."""
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        assert "Revise and Resubmit" not in text, path
        assert not re.search(r"status\|replace\('_'", text), path
        assert "'failed': 'danger'" not in text, path


@pytest.fixture
def revised_claim(demo) -> ProgressClaim:
    """The demo's draft claim, sent for review and returned to be revised."""
    claim = db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )
    change_claim_status(claim, ClaimStatus.UNDER_REVIEW)
    change_claim_status(claim, ClaimStatus.REVISE_AND_RESUBMIT)
    db.session.commit()
    return claim


def test_the_claim_badge_is_the_same_everywhere(login, app, revised_claim):
    badge = str(claim_status_badge("revise_and_resubmit"))
    client = login(ADMIN, DEMO_PASSWORD)
    pages = {
        "claim page": client.get(f"/admin/claims/details/?id={revised_claim.id}"),
        "claims list": client.get("/admin/claims/"),
        "home": client.get("/admin/"),
    }
    for name, response in pages.items():
        page = response.get_data(as_text=True)
        assert badge in page, name
        assert "Revise and Resubmit" not in page, name
    live = client.get(f"/admin/claims/{revised_claim.id}/live").get_json()
    assert live["parts"]["claim-status"] == badge
    # The approved claims of the demo are green on Home.
    assert str(claim_status_badge("approved")) in pages["home"].get_data(as_text=True)


def test_the_email_state_badge_is_the_same_on_the_tab_and_in_the_outbox(
    login, demo, broker, revised_claim
):
    pm = login(PM, DEMO_PASSWORD)
    compose(pm, revised_claim.id, to=contact_id("olivia@owner.example"), subject="Badge one")
    email = db.session.scalar(sa.select(Communication))
    assert move(db.session, email.id, {"queued"}, "failed", last_error="554 no", note="554 no")
    db.session.commit()
    badge = str(email_state_badge("failed"))
    tab = pm.get(f"/admin/claims/details/?id={revised_claim.id}&tab=emails")
    assert badge in tab.get_data(as_text=True)
    outbox = login(ADMIN, DEMO_PASSWORD).get("/admin/outbox/").get_data(as_text=True)
    assert badge in outbox
