"""Who may decide a claim (issue 7, finding 2): only the contract's approvers — its client
contact and directory people an admin marks "may approve claims" — and, by email, only when
they were a To or Cc recipient of the email answered, and (with TRUSTED_AUTHSERV_ID) only when
the receiving mail server authenticated the sender. Everyone else's reply is kept and shown,
and decides nothing, even when the company lets decisions move the status at once."""

import pytest
import sqlalchemy as sa

from models import ClaimDecision, Communication, Company, Contact, ProgressClaim, User
from models.approvers import NOT_AUTHENTICATED, approvers
from models.compose import Draft
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, demo_import
from models.errors import ImportErrorInFile
from models.importing import import_file
from tests.conftest import csrf_token_from, wait_for
from tests.test_inbound import reply_address, reply_by, reply_to, smtp_send, wait_for_replies
from web.emails import send_claim_email
from web.extensions import db


def _add_contact(project_id: int, **fields) -> Contact:
    contact = Contact(project_id=project_id, **fields)
    db.session.add(contact)
    db.session.commit()
    return contact


def _email_to(claim_id: int, to: list[str], cc: list[str] = ()) -> Communication:
    """The claim emailed by its PM, and sent."""
    claim = db.session.get(ProgressClaim, claim_id)
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    email = send_claim_email(claim, sender, Draft(to=to, cc=list(cc), message="Our claim."))

    def sent_yet():
        db.session.expire_all()
        return db.session.get(Communication, email.id).state == "sent"

    wait_for(sent_yet, what="the claim email to be sent")
    return db.session.get(Communication, email.id)


@pytest.fixture
def moves_at_once(demo):
    """The company setting under attack: decisions move the claim's status at once."""
    company = db.session.scalar(sa.select(Company))
    company.decisions_move_status = True
    db.session.commit()


def _claim_status(claim_id: int) -> str:
    db.session.expire_all()
    return db.session.get(ProgressClaim, claim_id).status


def _decisions() -> int:
    return db.session.scalar(sa.select(sa.func.count(ClaimDecision.id)))


@pytest.mark.parametrize("company_written", ["Harbourside Constructions", "Harbourside.", ""])
def test_the_contractors_staff_never_decide_however_their_company_is_written(
    worker, listener, project_id, claim_ids, moves_at_once, company_written
):
    _add_contact(
        project_id,
        name="Dan Decider",
        email="dan@harbourside.example",
        company=company_written,
        side="contractor",
    )
    email = _email_to(claim_ids[2], to=["olivia@owner.example", "dan@harbourside.example"])
    reply_by(listener, email, "Dan Decider <dan@harbourside.example>", "Approved")
    [reply] = wait_for_replies(email.id)
    assert (reply.sender_verified, reply.read_as, reply.decision) == (True, "approved", None)
    assert reply.undecided_reason == "the contractor's own people do not decide a claim"
    assert _decisions() == 0 and _claim_status(claim_ids[2]) == "under_review"


def test_a_subcontractor_in_the_directory_decides_nothing(
    worker, listener, project_id, claim_ids, moves_at_once
):
    _add_contact(
        project_id,
        name="Sub Contractor",
        email="sub@sparkies.example",
        company="Sparkies",
        side="subcontractor",
    )
    email = _email_to(claim_ids[2], to=["olivia@owner.example"])
    reply_by(listener, email, "Sub <sub@sparkies.example>", "Approved")
    [reply] = wait_for_replies(email.id)
    assert (reply.sender_verified, reply.decision) == (True, None)
    assert reply.undecided_reason == "not an approver of this contract"
    assert _decisions() == 0 and _claim_status(claim_ids[2]) == "under_review"


def test_an_approver_who_was_only_blind_copied_decides_nothing(sent, listener, moves_at_once):
    quentin = db.session.scalar(sa.select(Contact).where(Contact.email == "quentin@qs.example"))
    quentin.may_approve = True
    db.session.commit()
    reply_by(listener, sent, "Quentin Surveyor <quentin@qs.example>", "Approved")
    [reply] = wait_for_replies(sent.id)
    assert reply.decision is None
    assert reply.undecided_reason == "not a To or Cc recipient of this email"
    assert _decisions() == 0 and _claim_status(sent.claim_id) == "under_review"


def test_a_consultant_an_admin_named_approver_decides_when_copied(
    worker, listener, claim_ids, moves_at_once
):
    quentin = db.session.scalar(sa.select(Contact).where(Contact.email == "quentin@qs.example"))
    quentin.may_approve = True
    db.session.commit()
    email = _email_to(claim_ids[2], to=["olivia@owner.example"], cc=["quentin@qs.example"])
    reply_by(listener, email, "Quentin Surveyor <quentin@qs.example>", "Approved")
    [reply] = wait_for_replies(email.id)
    assert reply.decision == "approved"
    decision = db.session.scalar(sa.select(ClaimDecision))
    assert decision.person_email == "quentin@qs.example"
    assert _claim_status(claim_ids[2]) == "approved"


def test_a_directory_person_who_is_no_approver_decides_nothing(sent, listener, moves_at_once):
    """Sam is the client's superintendent, in the directory, but neither the contract's
    client contact nor marked as an approver."""
    reply_by(listener, sent, "Sam <sam@owner.example>", "Approved")
    [reply] = wait_for_replies(sent.id)
    assert (reply.sender_verified, reply.decision) == (True, None)
    assert _decisions() == 0 and _claim_status(sent.claim_id) == "under_review"


def test_the_contracts_approvers_are_explicit(demo):
    claim = db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )
    assert [c.email for c in approvers(claim.head_contract)] == ["olivia@owner.example"]


def test_a_contractor_cannot_be_made_an_approver_on_import(ctx):
    data = demo_import()
    data["users"] = []
    for project in data["projects"]:
        project["members"] = []
        project["directory"][4]["may_approve"] = True  # Chris Contracts, the contractor's
    with pytest.raises(ImportErrorInFile, match=r"directory\[4\]\.side: a contractor cannot"):
        import_file(db.session, data)


def test_a_client_contact_on_the_contractors_side_is_refused_on_import(ctx):
    data = demo_import()
    data["projects"][0]["head_contracts"][0]["client"] = "chris@harbourside.example"
    with pytest.raises(ImportErrorInFile, match=r"head_contracts\[0\]\.client: .*contractor"):
        import_file(db.session, data)


# --- the sender's authentication (TRUSTED_AUTHSERV_ID) --------------------------------------


@pytest.fixture
def trusted_server(app):
    app.config["TRUSTED_AUTHSERV_ID"] = "mx.owner-gateway.example"
    yield "mx.owner-gateway.example"
    app.config["TRUSTED_AUTHSERV_ID"] = None


def test_a_forged_from_of_the_client_decides_nothing(sent, listener, trusted_server, moves_at_once):
    """Anyone can write `From: olivia@owner.example`; without our mail server's DMARC pass
    it is kept for a person to confirm, marked "sender not authenticated"."""
    forged = reply_to(
        sent,
        "Approved",
        Authentication_Results="mx.owner-gateway.example; dmarc=fail header.from=owner.example",
    )
    smtp_send(listener, forged, reply_address(sent), mail_from="attacker@evil.example")
    [reply] = wait_for_replies(sent.id)
    assert (reply.sender_authenticated, reply.read_as, reply.decision) == (False, "approved", None)
    assert reply.undecided_reason == NOT_AUTHENTICATED
    assert _decisions() == 0 and _claim_status(sent.claim_id) == "under_review"


def test_an_authenticated_approval_decides(sent, listener, trusted_server, moves_at_once):
    passed = reply_to(
        sent,
        "Approved",
        Authentication_Results="mx.owner-gateway.example; dkim=pass header.d=owner.example;"
        " dmarc=pass header.from=owner.example",
    )
    smtp_send(listener, passed, reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    assert (reply.sender_authenticated, reply.decision) == (True, "approved")
    assert _claim_status(sent.claim_id) == "approved"


def test_a_billing_admin_confirms_an_unauthenticated_approval_once(
    sent, listener, trusted_server, login
):
    smtp_send(listener, reply_to(sent, "Approved"), reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    assert reply.undecided_reason == NOT_AUTHENTICATED
    admin = login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    page = admin.get(f"/admin/claims/details/?id={sent.claim_id}&tab=emails")
    text = page.get_data(as_text=True)
    assert "sender not authenticated" in text and "Confirm as the client's decision" in text
    confirm = f"/admin/claims/{sent.claim_id}/replies/{reply.id}/confirm"
    token = csrf_token_from(text)
    assert admin.post(confirm, data={"csrf_token": token}).status_code == 302
    assert admin.post(confirm, data={"csrf_token": token}).status_code == 302  # a second click
    db.session.expire_all()
    [decision] = db.session.scalars(sa.select(ClaimDecision)).all()
    assert (decision.outcome, decision.confirmed_by) == ("approved", "Alex Admin")
    assert decision.decided_at == reply.received_at  # the client's written word, when it came
