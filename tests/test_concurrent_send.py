"""Two first emails of a draft claim at the same moment (found by the production-shaped test:
the second answered 500): both are sent, and the claim is submitted once."""

import sqlalchemy as sa

from models import Communication, ProgressClaim, User
from models.compose import Draft
from web.emails import send_claim_email
from web.extensions import db


def test_a_draft_submitted_by_another_send_meanwhile_still_sends_this_one(demo, broker):
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    claim = db.session.get(ProgressClaim, claim_id)
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    assert claim.status == "draft"
    # The other request's send commits first, on a connection of its own.
    with db.engine.begin() as other:
        other.execute(
            sa.update(ProgressClaim)
            .where(ProgressClaim.id == claim_id)
            .values(status="under_review")
        )
    email = send_claim_email(claim, sender, Draft(to=["olivia@owner.example"], message="2nd"))
    db.session.expire_all()
    assert db.session.get(Communication, email.id).state == "queued"
    assert db.session.get(ProgressClaim, claim_id).status == "under_review"
