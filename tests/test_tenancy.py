"""One company's mail is never another's (issue 7, findings 1 and 4): unmatched replies,
their raw messages and Assign stay with the company they can be said to belong to, and Bcc
addresses stay hidden from everyone who may not see Bcc, in errors, history and API."""

import copy
import time
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from models import BillingPermission, Communication, InboundMessage, ProgressClaim, User
from models.compose import Draft
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, demo_import
from models.importing import import_file
from tests.conftest import PASSWORD, csrf_token_from, wait_for
from web.emails import send_claim_email
from web.extensions import db
from workers.intake import take_in

RIVAL_ADMIN = "admin@decide.example"


def rival_import() -> dict:
    """A second contractor, Decide Co, whose project's directory also has Olivia."""
    data = copy.deepcopy(demo_import())
    data["company"]["name"] = "Decide Co"
    data["users"] = [
        {"email": RIVAL_ADMIN, "name": "Dee Admin", "password": PASSWORD, "admin": True}
    ]
    project = data["projects"][0]
    project["number"], project["name"] = "D-1", "Decide Tower"
    project["members"] = [{"email": RIVAL_ADMIN, "permission": "admin"}]
    project["directory"] = [p for p in project["directory"] if p["name"] == "Olivia Owner"]
    return data


@pytest.fixture
def two_companies(demo):
    rival = import_file(db.session, rival_import())
    db.session.commit()
    return demo, rival


def unmatched_reply_from(sender: str) -> InboundMessage:
    """A reply that lost every trace of our token (a forward, a new thread): unmatched."""
    message = EmailMessage()
    message["From"] = f"Olivia Owner <{sender}>"
    message["To"] = "accounts@harbourside.example"
    message["Subject"] = "Re: your claim"
    message["Message-ID"] = f"<{time.time_ns()}@owner.example>"
    message.set_content("Approved\n")
    inbound, _ = take_in(bytes(message), "ingest")
    return inbound


def wait_unmatched(inbound_id: int) -> InboundMessage:
    def done():
        db.session.expire_all()
        row = db.session.get(InboundMessage, inbound_id)
        return row if row.status == "unmatched" else None

    return wait_for(done, what="the reply to be processed as unmatched")


def test_unmatched_mail_from_a_client_two_companies_share_is_for_site_operators_only(
    app, worker, two_companies, login
):
    demo, rival = two_companies
    inbound = wait_unmatched(unmatched_reply_from("olivia@owner.example").id)
    rival_admin = login(RIVAL_ADMIN)
    listing = rival_admin.get("/admin/inbound/").get_data(as_text=True)
    assert "Re: your claim" not in listing
    assert rival_admin.get(f"/admin/inbound/details/?id={inbound.id}").status_code == 404
    assert rival_admin.get(f"/admin/inbound/raw/?id={inbound.id}").status_code == 404

    # Decide Co's admin tries to take it onto one of their own emails: refused, unchanged.
    rival_claim = rival["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    rival_email = send_claim_email(
        db.session.get(ProgressClaim, rival_claim),
        db.session.get(User, rival["users"][RIVAL_ADMIN]),
        Draft(to=["olivia@owner.example"]),
    )
    token = csrf_token_from(rival_admin.get("/admin/inbound/").get_data(as_text=True))
    answer = rival_admin.post(
        "/admin/inbound/assign/",
        data={"csrf_token": token, "id": inbound.id, "email_id": rival_email.id},
    )
    assert answer.status_code == 404
    db.session.expire_all()
    assert db.session.get(InboundMessage, inbound.id).status == "unmatched"

    # The demo's admin is this installation's site operator: they see and may triage it.
    operator = login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    assert operator.get(f"/admin/inbound/details/?id={inbound.id}").status_code == 200


def test_unmatched_mail_from_one_companys_client_is_that_companys(
    app, worker, two_companies, login
):
    """Ava is only in the demo company's directory: its admins triage her mail; Decide Co's
    admin never sees it, and a site operator of no company sees it only through their own."""
    inbound = wait_unmatched(unmatched_reply_from("ava@architects.example").id)
    demo_admin = db.session.scalar(sa.select(User).where(User.email == DEMO_ADMIN_EMAIL))
    demo_admin.is_site_operator = False
    db.session.commit()
    assert (
        login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
        .get(f"/admin/inbound/details/?id={inbound.id}")
        .status_code
        == 200
    )
    assert login(RIVAL_ADMIN).get(f"/admin/inbound/details/?id={inbound.id}").status_code == 404


def test_a_stranger_s_unmatched_mail_is_for_site_operators_only(app, worker, two_companies, login):
    inbound = wait_unmatched(unmatched_reply_from("mallory@evil.example").id)
    assert login(RIVAL_ADMIN).get(f"/admin/inbound/details/?id={inbound.id}").status_code == 404
    operator = login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    assert operator.get(f"/admin/inbound/details/?id={inbound.id}").status_code == 200


# --- Bcc stays blind -----------------------------------------------------------------------


@pytest.fixture
def quentin_deferred(demo, worker, smtp_server, make_user, project_id):
    """Claim 3 emailed To Olivia, Bcc Quentin, whose server answers 451 at first."""
    greylisted = {"quentin@qs.example": 1}
    handler = smtp_server.handler

    async def handle_rcpt(server, session, envelope, address, rcpt_options):
        if greylisted.get(address, 0) > 0:
            greylisted[address] -= 1
            return "451 4.7.1 quentin@qs.example is greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    handler.handle_RCPT = handle_rcpt
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    pm = make_user("pm@harbourside.example", project_id, BillingPermission.STANDARD)
    email = send_claim_email(
        db.session.get(ProgressClaim, claim_id),
        pm,
        Draft(to=["olivia@owner.example"], bcc=["quentin@qs.example"]),
    )

    def sent_yet():
        db.session.expire_all()
        return db.session.get(Communication, email.id).state == "sent"

    wait_for(sent_yet, what="the retry to Quentin to be sent")
    db.session.expire_all()
    return db.session.get(Communication, email.id)


def test_a_deferred_bcc_recipient_is_not_named_to_those_who_may_not_see_bcc(
    quentin_deferred, make_user, project_id, api, login
):
    email = quentin_deferred
    history = " ".join(e.note for e in email.events)
    assert "quentin@qs.example" in history  # the truth is kept, for those who may see it

    reader = make_user("ro@harbourside.example", project_id, BillingPermission.READ_ONLY)
    resource = api(reader).get(f"/api/v1/emails/{email.id}").get_json()
    assert "quentin" not in str(resource).lower()
    assert "a Bcc recipient" in " ".join(e["note"] for e in resource["events"])
    page = login("ro@harbourside.example").get(f"/admin/claims/{email.claim_id}/emails/{email.id}")
    assert page.status_code == 200 and "quentin" not in page.get_data(as_text=True).lower()

    admin = db.session.scalar(sa.select(User).where(User.email == DEMO_ADMIN_EMAIL))
    assert "quentin@qs.example" in str(api(admin).get(f"/api/v1/emails/{email.id}").get_json())


def test_a_bounce_about_a_bcc_recipient_does_not_name_them(sent, make_user, project_id, api):
    """The bounce's text names the Bcc recipient it reports on."""
    bounce = EmailMessage()
    bounce["From"] = "Mail Delivery System <MAILER-DAEMON@mx.qs.example>"
    bounce["To"] = f"claims+{sent.reply_token}@replies.localhost"
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = f"<{time.time_ns()}@mx.qs.example>"
    bounce["In-Reply-To"] = sent.message_id
    bounce["Auto-Submitted"] = "auto-replied"
    bounce.set_content("I could not deliver your message to quentin@qs.example: mailbox full.\n")
    take_in(bytes(bounce), "ingest")
    wait_for(
        lambda: db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("reply"))),
        what="the bounce to be recorded",
    )
    reader = make_user("ro@harbourside.example", project_id, BillingPermission.READ_ONLY)
    resource = api(reader).get(f"/api/v1/claims/{sent.claim_id}/emails").get_json()
    assert resource["emails"][0]["replies"], "the bounce is on the email"
    assert "quentin" not in str(resource).lower()
