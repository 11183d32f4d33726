"""Compose Email, the Emails tab, the Outbox and the Mailbox, as people use them in a browser."""

import io
import re
from datetime import timedelta
from hashlib import sha256

import pytest
import sqlalchemy as sa

from models import BillingPermission, Communication, Contact, EmailEvent
from models.storage import FileStore
from tests.conftest import csrf_token_from, wait_for
from tests.mail import free_port
from web.extensions import db
from workers.actors import render_email
from workers.mailcatcher import start_mail_catcher
from workers.reconciler import sweep

PM = "priya.pm@harbourside.example"  # standard member of the demo project
ADMIN = "admin@harbourside.example"  # company admin
DEMO_PASSWORD = "claimpost-demo"


@pytest.fixture
def claim_id(demo) -> int:
    return demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]


def contact_id(email: str) -> str:
    return str(db.session.scalar(sa.select(Contact.id).where(Contact.email == email)))


def compose(client, claim_id: int, **fields):
    url = f"/admin/claims/{claim_id}/compose"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    data = {
        "csrf_token": token,
        "subject": "Progress Claim #3",
        "message": "Please approve.",
        **fields,
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def emails_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Communication.id)))


def emails_state(email_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Communication, email_id).state


def test_the_compose_form_is_prefilled_for_the_sender(login, claim_id, broker):
    page = login(PM, DEMO_PASSWORD).get(f"/admin/claims/{claim_id}/compose").get_data(as_text=True)
    assert "sending this email submits it to the client" in page  # the demo's claim 3 is a draft
    assert 'value="Progress Claim #3 for Head Contract #HC-1 - 01/10/2026 - 31/10/2026"' in page
    priya = contact_id(PM)
    cc = page[page.index('name="cc"') : page.index('name="bcc"')]
    assert f'selected value="{priya}"' in cc or f'value="{priya}" selected' in cc
    assert "Olivia Owner &lt;olivia@owner.example&gt;" in page


def test_send_creates_the_communication_and_shows_the_banner(login, claim_id, broker):
    client = login(PM, DEMO_PASSWORD)
    response = compose(
        client,
        claim_id,
        to=contact_id("olivia@owner.example"),
        cc=contact_id(PM),
        attachments=(io.BytesIO(b"%PDF-1.4 waiver"), "lien waiver.pdf"),
    )
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/claims/details/?id={claim_id}&tab=emails")
    page = client.get(response.location).get_data(as_text=True)
    assert "Communication Created" in page and "alert-warning" in page
    assert 'class="tab-pane active" id="emails"' in page
    # The page follows the email's progress by itself, from a script file (no inline script).
    assert f'data-live-url="/admin/claims/{claim_id}/live"' in page
    assert page.count('src="/static/js/live.js"') == 1
    assert "<script>" not in page and "window.location" not in page
    subject = "Progress Claim #3 for Head Contract #HC-1 - 01/10/2026 - 31/10/2026"
    assert f"<title>{subject} - ClaimPost</title>" in page
    row = page[page.index('id="claim-emails"') :]
    assert "Please approve." not in row and "Progress Claim #3" in row
    assert "TO: Olivia Owner" in row and "CC: Priya Patel" in row and "lien waiver.pdf" in row
    assert "queued" in row
    email = db.session.scalar(sa.select(Communication))
    assert email.state == "queued" and email.sender.email == PM
    assert broker.client.hlen("dramatiq:email.msgs") == 1  # the render message is queued
    assert [e.state for e in email.events] == ["queued"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({}, "Add at least one To recipient."),
        (
            {"subject": "Claim\r\nBcc: victim@example.com"},
            "The subject must be one line, without control characters.",
        ),
        ({"subject": "Claim\u2028Bcc: victim@example.com"}, "The subject must be one line"),
        ({"attachments": (b"MZ\x90\x00", "invoice.pdf")}, "looks like a program"),
        ({"attachments": (b"echo hi", "run.bat")}, "looks like a program"),
    ],
)
def test_a_bad_email_is_refused_with_a_message_and_nothing_is_created(
    login, claim_id, broker, fields, message
):
    client = login(PM, DEMO_PASSWORD)
    if fields:
        fields = {"to": contact_id("olivia@owner.example"), **fields}
    if "attachments" in fields:
        content, filename = fields["attachments"]
        fields["attachments"] = (io.BytesIO(content), filename)
    response = compose(client, claim_id, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert emails_count() == 0


def test_attachments_over_the_limit_are_refused(app, login, claim_id, broker):
    client = login(PM, DEMO_PASSWORD)
    app.config["MAX_ATTACHMENT_BYTES"] = 1000
    try:
        response = compose(
            client,
            claim_id,
            to=contact_id("olivia@owner.example"),
            attachments=[(io.BytesIO(b"a" * 600), "a.pdf"), (io.BytesIO(b"b" * 600), "b.pdf")],
        )
    finally:
        app.config["MAX_ATTACHMENT_BYTES"] = 25 * 1024 * 1024
    assert (
        "The attachments come to 1.2 KB; the limit for one email is 1,000 bytes in all."
        in response.get_data(as_text=True)
    )
    assert emails_count() == 0
    for content in (b"a" * 600, b"b" * 600):
        assert not FileStore(app.config["STORAGE_DIR"]).path(sha256(content).hexdigest()).exists()


def test_read_only_users_cannot_compose(login, make_user, claim_id, demo):
    make_user("ro@harbourside.example", demo["projects"][0]["id"], BillingPermission.READ_ONLY)
    client = login("ro@harbourside.example")
    assert client.get(f"/admin/claims/{claim_id}/compose").status_code == 403
    page = client.get(f"/admin/claims/details/?id={claim_id}").get_data(as_text=True)
    assert "Compose Email" not in page


def test_the_directory_type_ahead_finds_people(login, claim_id):
    client = login(PM, DEMO_PASSWORD)
    found = client.get(f"/admin/claims/{claim_id}/directory?q=qs.ex").get_json()
    assert [c["email"] for c in found["contacts"]] == ["quentin@qs.example"]
    assert client.get(f"/admin/claims/{claim_id}/directory?q=zzz").get_json() == {"contacts": []}


def test_private_emails_show_only_to_sender_recipients_and_admins(
    login, make_user, claim_id, demo, broker
):
    project_id = demo["projects"][0]["id"]
    compose(
        login(PM, DEMO_PASSWORD),
        claim_id,
        to=contact_id("quentin@qs.example"),
        private="y",
        subject="Private note",
    )
    make_user("quentin@qs.example", project_id, BillingPermission.READ_ONLY)
    make_user("other@harbourside.example", project_id, BillingPermission.READ_ONLY)
    url = f"/admin/claims/details/?id={claim_id}"
    for email, sees in [
        (PM, True),
        ("quentin@qs.example", True),
        (ADMIN, True),
        ("other@harbourside.example", False),
    ]:
        password = DEMO_PASSWORD if email in (PM, ADMIN) else None
        client = login(email, password) if password else login(email)
        assert ("Private note" in client.get(url).get_data(as_text=True)) is sees, email
    email_id = db.session.scalar(sa.select(Communication.id))
    other = login("other@harbourside.example")
    assert other.get(f"/admin/claims/{claim_id}/emails/{email_id}").status_code == 404


def test_the_email_page_shows_what_was_sent_with_the_message_escaped(
    login, claim_id, worker, smtp_server
):
    client = login(PM, DEMO_PASSWORD)
    compose(
        client,
        claim_id,
        to=contact_id("olivia@owner.example"),
        message="<script>alert('x')</script> & thanks",
    )
    email_id = db.session.scalar(sa.select(Communication.id))

    def sent():
        db.session.expire_all()
        return db.session.get(Communication, email_id).state == "sent"

    wait_for(sent, what="the email to be sent")
    page = client.get(f"/admin/claims/{claim_id}/emails/{email_id}").get_data(as_text=True)
    assert '<iframe sandbox="" srcdoc="' in page
    assert "<script>alert" not in page
    assert "&amp;lt;script&amp;gt;alert" in page  # escaped in the email, escaped again here
    assert "accepted" in page and "History" in page
    headers = page[page.index('id="email-headers"') :]
    assert "X-Auto-Response-Suppress: OOF, AutoReply" in headers and "Message-ID: &lt;" in headers


def test_operators_retry_and_cancel_from_the_outbox(login, claim_id, broker, make_user, demo):
    client = login(PM, DEMO_PASSWORD)
    for subject in ("First", "Second"):
        compose(client, claim_id, to=contact_id("olivia@owner.example"), subject=subject)
    first, second = db.session.scalars(sa.select(Communication).order_by(Communication.id))
    first.state = "failed"
    db.session.commit()

    assert "First" not in client.get("/admin/outbox/").get_data(as_text=True)  # not an admin
    admin = login(ADMIN, DEMO_PASSWORD)
    page = admin.get("/admin/outbox/").get_data(as_text=True)
    assert "First" in page and "Second" in page
    token = csrf_token_from(page)
    admin.post(
        "/admin/outbox/action/",
        data={"action": "retry", "rowid": [first.id, second.id], "csrf_token": token},
    )
    admin.post(
        "/admin/outbox/action/",
        data={"action": "cancel", "rowid": [second.id], "csrf_token": token},
    )
    db.session.expire_all()
    assert (first.state, second.state) == ("queued", "cancelled")
    events = db.session.scalars(sa.select(EmailEvent).where(EmailEvent.actor == "Alex Admin"))
    assert sorted((e.communication_id, e.state) for e in events) == [
        (first.id, "queued"),
        (second.id, "cancelled"),
    ]


def test_the_mailbox_shows_caught_mail_as_the_recipient_sees_it(
    app, login, claim_id, worker, mail_config, tmp_path
):
    port = free_port()
    catcher = start_mail_catcher(tmp_path / "mailbox", "127.0.0.1", port)
    mail_config.update(SMTP_URL=f"smtp://127.0.0.1:{port}", MAILBOX_DIR=str(tmp_path / "mailbox"))
    try:
        compose(
            login(PM, DEMO_PASSWORD),
            claim_id,
            to=contact_id("olivia@owner.example"),
            subject="Caught claim",
            attachments=[(io.BytesIO(b"%PDF-1.4 marked up"), "Schedule 'A'.pdf")],
        )
        wait_for(lambda: list((tmp_path / "mailbox").glob("*.json")), what="the catcher")
    finally:
        catcher.stop()
    admin = login(ADMIN, DEMO_PASSWORD)
    listing = admin.get("/admin/mailbox/").get_data(as_text=True)
    assert "Caught claim" in listing and "olivia@owner.example" in listing
    assert re.search(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d AE[DS]T", listing)  # Sydney time
    name = next((tmp_path / "mailbox").glob("*.json")).stem
    message = admin.get(f"/admin/mailbox/message?name={name}").get_data(as_text=True)
    assert "srcdoc=" in message and "233,822.11" in message
    assert "X-Auto-Response-Suppress" in message
    download = admin.get(f"/admin/mailbox/attachment?name={name}&number=1")
    assert download.data == b"%PDF-1.4 marked up"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "Schedule" in download.headers["Content-Disposition"]
    claim_pdf = admin.get(f"/admin/mailbox/attachment?name={name}&number=2")
    assert claim_pdf.data.startswith(b"%PDF")  # the claim's own PDF, made at rendering
    assert admin.get(f"/admin/mailbox/attachment?name={name}&number=3").status_code == 404
    assert login(PM, DEMO_PASSWORD).get("/admin/mailbox/").status_code == 403
    assert (
        login(PM, DEMO_PASSWORD).get(f"/admin/mailbox/attachment?name={name}&number=1").status_code
        == 403
    )


def test_a_broker_outage_after_saving_still_confirms_and_the_reconciler_sends_it(
    login, claim_id, worker, smtp_server, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(render_email, "send", broker_down)
    response = compose(login(PM, DEMO_PASSWORD), claim_id, to=contact_id("olivia@owner.example"))
    assert response.status_code == 302  # the user sees "Communication Created", sends no copy
    [email] = db.session.scalars(sa.select(Communication)).all()
    assert email.state == "queued" and smtp_server.received == []
    monkeypatch.undo()  # the broker is back
    assert sweep(timedelta(0)) == [email.id]
    wait_for(lambda: emails_state(email.id) == "sent", what="the reconciled email to be sent")
    [delivered] = smtp_server.received
    assert delivered.rcpt_tos == ["olivia@owner.example"]
    assert delivered.message["Message-ID"] == email.message_id


def test_the_outbox_searches_by_subject_and_recipient(login, claim_id, broker):
    client = login(PM, DEMO_PASSWORD)
    compose(client, claim_id, to=contact_id("olivia@owner.example"), subject="To Olivia")
    compose(client, claim_id, to=contact_id("quentin@qs.example"), subject="To Quentin")
    first = db.session.scalar(sa.select(Communication).where(Communication.subject == "To Olivia"))
    first.state = "failed"
    db.session.commit()
    admin = login(ADMIN, DEMO_PASSWORD)

    def subjects(query: str) -> set[str]:
        page = admin.get(f"/admin/outbox/?{query}").get_data(as_text=True)
        return {s for s in ("To Olivia", "To Quentin") if s in page}

    assert subjects("search=qs.example") == {"To Quentin"}
    assert subjects("search=Olivia") == {"To Olivia"}
    page = admin.get("/admin/outbox/").get_data(as_text=True)
    assert f'href="/admin/claims/{claim_id}/emails/{first.id}">To Olivia</a>' in page
    assert "recipients.email" not in page  # the search box names what it searches in words


def test_a_compose_upload_over_the_request_limit_comes_back_to_the_form_with_the_limit(
    app, login, claim_id, broker
):
    client = login(PM, DEMO_PASSWORD)
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2000  # Werkzeug refuses the request before reading it
    try:
        response = compose(
            client,
            claim_id,
            to=contact_id("olivia@owner.example"),
            attachments=[(io.BytesIO(b"a" * 5000), "big.pdf")],
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/claims/{claim_id}/compose")
    page = client.get(response.location).get_data(as_text=True)
    assert "too large to upload: the attachments of one email may come to 25.0 MB in all" in page
    assert 'id="compose-form"' in page
    assert emails_count() == 0


def test_other_forms_over_the_request_limit_get_a_plain_413(app, login, claim_id):
    client = login(PM, DEMO_PASSWORD)
    token = csrf_token_from(client.get(f"/admin/claims/details/?id={claim_id}").get_data(True))
    saved = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 500
    try:
        response = client.post(
            f"/admin/claims/{claim_id}/lines",
            data={"csrf_token": token, "item": "9", "work-9": "1" * 1000},
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = saved
    assert response.status_code == 413


def test_a_refused_compose_says_the_attachments_must_be_chosen_again(login, claim_id, broker):
    response = compose(
        login(PM, DEMO_PASSWORD), claim_id, attachments=[(io.BytesIO(b"%PDF-1.4"), "a.pdf")]
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Add at least one To recipient." in page
    assert "your attachments were not kept: choose them again" in page
