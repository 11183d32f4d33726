"""No private email, Bcc address or other company's mail appears in any list, detail, count
or API answer of someone who may not see it (issue 7). Each visitor crawls every page and API
answer that lists or shows mail; what they may not see must appear nowhere in it."""

import pytest
import sqlalchemy as sa

from models import BillingPermission, Communication, ProgressClaim, User
from models.compose import Draft
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from models.importing import import_file
from tests.conftest import PASSWORD
from tests.test_tenancy import RIVAL_ADMIN, rival_import
from web.emails import send_claim_email
from web.extensions import db

PRIVATE = "PRIVATE-CLAIM-TALK"
RIVAL = "RIVAL-COMPANY-CLAIM"
BCC = "quentin@qs.example"


@pytest.fixture
def mail(demo, make_user, project_id):
    rival = import_file(db.session, rival_import())
    db.session.commit()
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    rival_claim_id = rival["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    sender = make_user("pm@harbourside.example", project_id, BillingPermission.STANDARD)
    claim = db.session.get(ProgressClaim, claim_id)
    emails = [
        send_claim_email(
            claim,
            sender,
            Draft(to=["olivia@owner.example"], bcc=[BCC], private=True, subject=PRIVATE),
        ),
        send_claim_email(claim, sender, Draft(to=["olivia@owner.example"], bcc=[BCC])),
        send_claim_email(
            db.session.get(ProgressClaim, rival_claim_id),
            db.session.scalar(sa.select(User).where(User.email == RIVAL_ADMIN)),
            Draft(to=["olivia@owner.example"], subject=RIVAL),
        ),
    ]
    return {"claim": claim_id, "rival_claim": rival_claim_id, "emails": [e.id for e in emails]}


def crawl(client, token, mail) -> str:
    """Everything the visitor is shown where mail is listed, shown or counted."""
    claim = mail["claim"]
    pages = [
        "/admin/",
        "/admin/claims/",
        f"/admin/claims/details/?id={claim}&tab=emails",
        "/admin/outbox/",
        "/admin/outbox/?search=claim",
        "/admin/inbound/",
        "/admin/mailbox/",
        *(f"/admin/claims/{claim}/emails/{email_id}" for email_id in mail["emails"]),
    ]
    api = [
        "/api/v1/claims",
        f"/api/v1/claims/{claim}/emails",
        f"/api/v1/claims/{mail['rival_claim']}/emails",
        *(f"/api/v1/emails/{email_id}" for email_id in mail["emails"]),
    ]
    shown = [client.get(path).get_data(as_text=True) for path in pages]
    bearer = {"Authorization": f"Bearer {token}"}
    shown += [client.get(path, headers=bearer).get_data(as_text=True) for path in api]
    return "\n".join(shown)


@pytest.mark.parametrize(
    ("who", "permission", "may_see"),
    [
        ("ro@harbourside.example", BillingPermission.READ_ONLY, set()),
        ("other@harbourside.example", BillingPermission.STANDARD, set()),
        ("boss@harbourside.example", BillingPermission.ADMIN, {PRIVATE, BCC}),
    ],
)
def test_members_see_only_what_they_may(
    app, mail, make_user, make_token, login, project_id, who, permission, may_see
):
    user = make_user(who, project_id, permission)
    seen = crawl(login(who), make_token(user), mail)
    assert "Progress Claim #3" in seen  # the crawl does reach the claim's mail
    for secret in (PRIVATE, BCC, RIVAL):
        assert (secret in seen) == (secret in may_see), secret


def test_the_sender_sees_their_private_email_and_its_bcc(app, mail, login, make_token):
    sender = db.session.scalar(sa.select(User).where(User.email == "pm@harbourside.example"))
    seen = crawl(login("pm@harbourside.example"), make_token(sender), mail)
    assert PRIVATE in seen and BCC in seen and RIVAL not in seen


def test_another_companys_admin_sees_none_of_our_mail(app, mail, login, make_token):
    rival = db.session.scalar(sa.select(User).where(User.email == RIVAL_ADMIN))
    seen = crawl(login(RIVAL_ADMIN, PASSWORD), make_token(rival), mail)
    assert RIVAL in seen  # their own
    assert PRIVATE not in seen and BCC not in seen
    assert "Harbour Tower" not in seen  # nor our project's name anywhere


def test_our_company_admin_sees_ours_and_not_theirs(app, mail, login, make_token):
    admin = db.session.scalar(sa.select(User).where(User.email == DEMO_ADMIN_EMAIL))
    seen = crawl(login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD), make_token(admin), mail)
    assert PRIVATE in seen and BCC in seen and RIVAL not in seen


def test_the_emails_tab_counts_only_what_the_visitor_may_see(
    app, mail, make_user, login, project_id
):
    make_user("ro@harbourside.example", project_id, BillingPermission.READ_ONLY)
    page = (
        login("ro@harbourside.example")
        .get(f"/admin/claims/details/?id={mail['claim']}&tab=emails")
        .get_data(as_text=True)
    )
    assert 'Emails <span class="badge badge-light" id="claim-email-count">1</span>' in page
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Communication.id)).where(
                Communication.claim_id == mail["claim"]
            )
        )
        == 2
    )
