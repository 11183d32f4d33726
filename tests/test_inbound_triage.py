"""Inbound triage: the detail page shows the message as text, its main headers and why it
matched no email, in words; Assign offers the emails it may answer (by claim, subject,
sender and date, with a search), never another company's (issue 10)."""

import re
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from models import InboundMessage, ProgressClaim, Reply, User
from models.base import utcnow
from models.communication import move
from models.compose import Draft
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from models.importing import import_file
from tests.conftest import csrf_token_from
from tests.test_tenancy import RIVAL_ADMIN, rival_import
from web.emails import send_claim_email
from web.extensions import db
from workers.intake import take_in
from workers.replies import process

OURS = "Harbourside claim 3 for October"
THEIRS = "Decide Co claim 3 for October"


def sent_email(claim_id: int, user: User, subject: str):
    """An email to Olivia, as the workers leave it once her server took it."""
    email = send_claim_email(
        db.session.get(ProgressClaim, claim_id),
        user,
        Draft(to=["olivia@owner.example"], subject=subject),
    )
    assert move(db.session, email.id, {"queued"}, "sent", sent_at=utcnow())
    db.session.commit()
    return email


@pytest.fixture
def world(demo, broker):
    """Our email and Decide Co's, both to Olivia (in both directories), and Olivia's answer to
    ours that lost every trace of it: unmatched, so only site operators triage it."""
    rival = import_file(db.session, rival_import())
    db.session.commit()
    pm = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    ours = sent_email(demo["projects"][0]["head_contracts"][0]["claims"][2]["id"], pm, OURS)
    rival_admin = db.session.get(User, rival["users"][RIVAL_ADMIN])
    theirs = sent_email(
        rival["projects"][0]["head_contracts"][0]["claims"][2]["id"], rival_admin, THEIRS
    )
    message = EmailMessage()
    message["From"] = "Olivia Owner <olivia@owner.example>"
    message["To"] = "accounts@harbourside.example"
    message["Subject"] = f"Re: {OURS}"
    message["Message-ID"] = "<answer-1@owner.example>"
    message["In-Reply-To"] = "<lost@elsewhere.example>"
    message.set_content("Approved, thanks.\n<script>window.__injected = 1</script>\n")
    inbound, _ = take_in(bytes(message), "ingest", envelope_to=["accounts@harbourside.example"])
    process(inbound)
    db.session.commit()
    assert inbound.status == "unmatched"
    return {"ours": ours, "theirs": theirs, "inbound": inbound}


def details(client, inbound_id: int, q: str = "") -> str:
    response = client.get("/admin/inbound/details/", query_string={"id": inbound_id, "q": q})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def offered(page: str) -> set[int]:
    return {int(i) for i in re.findall(r'name="email_id" value="(\d+)"', page)}


def test_the_page_shows_the_text_the_headers_and_why_it_matched_nothing(login, world):
    page = details(login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD), world["inbound"].id)
    text = page.split('id="inbound-text"', 1)[1].split("</pre>", 1)[0]
    assert "Approved, thanks." in text
    assert "&lt;script&gt;" in text and "<script>window" not in page  # text, escaped
    headers = page.split('id="inbound-headers"', 1)[1].split("</table>", 1)[0]
    for name, value in [
        ("From", "Olivia Owner &lt;olivia@owner.example&gt;"),
        ("Subject", f"Re: {OURS}"),
        ("In-Reply-To", "&lt;lost@elsewhere.example&gt;"),
    ]:
        assert f">{name}</th><td" in headers and value in headers, name
    why = page.split('id="why-unmatched"', 1)[1].split("</ul>", 1)[0]
    assert "Envelope recipients: accounts@harbourside.example; none is one of our reply" in why
    assert "In-Reply-To: &lt;lost@elsewhere.example&gt;; none is the Message-ID of an email" in why
    assert "References: the message has none." in why
    assert "Matched no email" in page


def test_labels_are_words_not_codes(login, world):
    client = login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    for page in (
        details(client, world["inbound"].id),
        client.get("/admin/inbound/").get_data(as_text=True),
    ):
        assert "Raw Sha256" not in page and "Dedupe Key" not in page
        # Codes stay in attributes (filter values), never as text on the page.
        assert not re.search(r">\s*(token_envelope|auto_reply|unmatched|ingest)\s*<", page)
        assert "Matched no email" in page


def test_assign_offers_our_emails_by_sender_and_subject_never_another_companys(login, world):
    client = login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    page = details(client, world["inbound"].id)
    assert offered(page) == {world["ours"].id}
    row = page.split(f'data-email="{world["ours"].id}"', 1)[1].split("</tr>", 1)[0]
    assert "sent to this sender" in row and "same subject" in row and "checked" in row
    # Searching for the other company's email finds nothing; searching ours finds it.
    assert offered(details(client, world["inbound"].id, q=THEIRS)) == set()
    assert offered(details(client, world["inbound"].id, q="Decide")) == set()
    assert offered(details(client, world["inbound"].id, q="HC-1")) == {world["ours"].id}
    assert offered(details(client, world["inbound"].id, q="#3")) == {world["ours"].id}


def test_assign_from_the_page_makes_it_a_reply_and_refuses_an_email_not_offered(login, world):
    client = login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    page = details(client, world["inbound"].id)
    token = csrf_token_from(page.split('id="assign-form"', 1)[1])
    refused = client.post(
        "/admin/inbound/assign/",
        data={"csrf_token": token, "id": world["inbound"].id, "email_id": world["theirs"].id},
        follow_redirects=True,
    )
    assert "Choose one of the emails offered below." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(InboundMessage, world["inbound"].id).status == "unmatched"

    done = client.post(
        "/admin/inbound/assign/",
        data={"csrf_token": token, "id": world["inbound"].id, "email_id": world["ours"].id},
        follow_redirects=True,
    )
    assert f"is now a reply to “{OURS}”" in done.get_data(as_text=True)
    db.session.expire_all()
    reply = db.session.scalar(sa.select(Reply).where(Reply.inbound_id == world["inbound"].id))
    assert reply.communication_id == world["ours"].id and reply.inbound.match_method == "operator"
    assert "Assigned by an operator" in details(client, world["inbound"].id)
