"""The claim email as the client receives it, through the real broker, a real worker and a real
SMTP server: it reads like an invoice, links only to the client's page, and carries the
claim's PDF, the same bytes as stored, listed and downloaded."""

import hashlib
import io
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from models import Communication, ProgressClaim, User
from models.client_link import client_key_of
from models.compose import Draft, Upload, compose_email
from models.importing import import_file
from models.statutory import claim_statement
from models.storage import FileStore
from tests.conftest import wait_for
from tests.test_import import example_file
from web.emails import file_store, mail_settings, send_claim_email
from web.extensions import db
from workers.render import render


class Links(HTMLParser):
    """Every href and src of an HTML document."""

    def __init__(self):
        super().__init__()
        self.hrefs, self.srcs = [], []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "href":
                self.hrefs.append(value)
            if name == "src":
                self.srcs.append(value)


def parts(received):
    message = received.message
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    return message, html, text


def words(text: str) -> str:
    """Text as read: one space between words, none before punctuation (a tag ended there)."""
    return re.sub(r" ([,:.])", r"\1", " ".join(text.split()))


def test_the_html_has_one_link_and_it_is_the_clients_page(app, sent, smtp_server):
    [received] = smtp_server.received
    _, html, text = parts(received)
    links = Links()
    links.feed(html)
    [href] = links.hrefs
    assert links.srcs == []  # nothing to fetch from anywhere
    base = f"{app.config['PUBLIC_URL']}/client/"
    assert href.startswith(base)
    token = href.removeprefix(base)
    assert client_key_of(token, [app.config["SECRET_KEY"]], 90) == sent.client_key
    assert "/admin" not in html and "/admin" not in text
    assert href in text  # the text part carries the same link
    assert ">Review and respond</a>" in html


def test_the_email_reads_like_an_invoice_from_the_company(sent, smtp_server):
    [received] = smtp_server.received
    _, html, text = parts(received)
    statement = claim_statement("AU-NSW")  # the demo's contract is under the NSW Act
    for body in (words(re.sub(r"<[^>]+>", " ", html)), words(text)):
        # Letterhead.
        assert "Harbourside Constructions Pty Ltd" in body
        assert "ABN 51 824 753 556" in body and "Sydney NSW 2000" in body
        # What is claimed and what is due, with the currency and the GST (tests/test_api.py).
        assert "$257,204.32 is due: $233,822.11 plus GST of $23,382.21" in body
        # The summary, the statement and the answer by reply.
        assert "Less amounts previously certified $483,970.95" in body
        assert "Total of this claim, including GST $257,204.32" in body
        assert words(statement.text) in body
        assert "Or answer by replying to this email" in body
        # The line table with its totals.
        assert "Totals" in body and "$259,422.35" in body and "$795,567.85" in body
        assert "Our October claim." in body
    assert re.search(r"[^$]233,822\.11", html) is None  # never a bare number


def test_the_pdf_is_attached_listed_as_generated_and_the_same_bytes_everywhere(
    app, api, login, sent, smtp_server
):
    [received] = smtp_server.received
    message, _, _ = parts(received)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Progress Claim 3 - HC-1.pdf"
    sent_bytes = attachment.get_content()

    db.session.expire_all()
    email = db.session.get(Communication, sent.id)
    [row] = email.attachments
    assert row.generated and row.sha256 == hashlib.sha256(sent_bytes).hexdigest()
    assert FileStore(app.config["STORAGE_DIR"]).read(row.sha256) == sent_bytes

    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    resource = api(sender).get(f"/api/v1/emails/{email.id}").get_json()
    assert resource["attachments"] == [
        {
            "filename": "Progress Claim 3 - HC-1.pdf",
            "size": len(sent_bytes),
            "sha256": hashlib.sha256(sent_bytes).hexdigest(),
            "generated": True,
        }
    ]
    # The Emails tab's download gives the same bytes.
    page = login("admin@harbourside.example", "claimpost-demo")
    download = page.get(f"/admin/claims/{email.claim_id}/files/sent/{row.id}")
    assert download.status_code == 200 and download.data == sent_bytes

    # And the client's page, with no login, serves it as sent.
    base = f"{app.config['PUBLIC_URL']}/client/"
    token = [h for h in re.findall(r'href="([^"]+)"', parts(received)[1])][0].removeprefix(base)
    served = app.test_client().get(f"/client/{token}/claim.pdf")
    assert (served.status_code, served.mimetype, served.data) == (
        200,
        "application/pdf",
        sent_bytes,
    )

    # The PDF is of the snapshot: its figures, and the snapshot's hash in every footer.
    pages = [words(p.extract_text()) for p in PdfReader(io.BytesIO(sent_bytes)).pages]
    assert "Amount of this claim, excluding GST $233,822.11" in pages[0]
    assert all(f"Ref. {email.snapshot_sha256[:12]}" in page for page in pages)
    assert "DRAFT" not in " ".join(pages)  # what was sent is the claim, not a draft of it


def test_uploads_come_first_and_the_claims_pdf_is_added(app, demo, worker, smtp_server):
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    claim = db.session.get(ProgressClaim, claim_id)
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))

    email = send_claim_email(
        claim,
        sender,
        Draft(
            to=["olivia@owner.example"],
            uploads=[Upload("photos.zip", "application/zip", b"PK\x03\x04 photos")],
        ),
    )

    def sent_yet():
        db.session.expire_all()
        return db.session.get(Communication, email.id).state == "sent"

    wait_for(sent_yet, what="the email to be sent")
    [received] = smtp_server.received
    names = [a.get_filename() for a in received.message.iter_attachments()]
    assert names == ["photos.zip", "Progress Claim 3 - HC-1.pdf"]
    stored = db.session.get(Communication, email.id)
    assert [(a.filename, a.generated) for a in stored.attachments] == [
        ("photos.zip", False),
        ("Progress Claim 3 - HC-1.pdf", True),
    ]


def test_each_multipart_has_a_boundary_of_its_own_that_no_part_contains(
    app, demo, worker, smtp_server
):
    """The boundaries are set as the message is built (workers/mime.py), not searched for by
    the email package: "=_" and 128 random bits, a new one for each multipart of each message,
    and the message reads back whole (its text, and the upload and PDF in order)."""
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    claim = db.session.get(ProgressClaim, claim_id)
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    ids = [
        send_claim_email(
            claim,
            sender,
            Draft(
                to=["olivia@owner.example"],
                message="Our October claim.",
                uploads=[Upload("photos.zip", "application/zip", b"PK\x03\x04 photos")],
            ),
        ).id
        for _ in range(2)
    ]

    def sent_yet():
        db.session.expire_all()
        return all(db.session.get(Communication, i).state == "sent" for i in ids)

    wait_for(sent_yet, what="the emails to be sent")
    boundaries = []
    for received in smtp_server.received:
        message = received.message
        multiparts = [part for part in message.walk() if part.is_multipart()]
        assert [p.get_content_type() for p in multiparts] == [
            "multipart/mixed",
            "multipart/alternative",
        ]
        boundaries += [p.get_boundary() for p in multiparts]
        assert "Our October claim." in message.get_body(("plain",)).get_content()
        names = [a.get_filename() for a in message.iter_attachments()]
        assert names == ["photos.zip", "Progress Claim 3 - HC-1.pdf"]
    assert len(boundaries) == 4 == len(set(boundaries))
    assert all(re.fullmatch(r"=_[0-9a-f]{32}", b) for b in boundaries)


@pytest.mark.parametrize("content_type", ["message/rfc822", "multipart/mixed", "Message/Partial"])
def test_a_forwarded_message_is_attached_as_a_file(app, demo, worker, smtp_server, content_type):
    """An upload of a message or multipart type (an .eml the browser labelled message/rfc822)
    goes as a file: MIME never sends those types encoded, so the email read back broken."""
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    claim = db.session.get(ProgressClaim, claim_id)
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    eml = b"From: Olivia <olivia@owner.example>\r\nSubject: site photos\r\n\r\nSee attached.\r\n"
    email = send_claim_email(
        claim,
        sender,
        Draft(to=["olivia@owner.example"], uploads=[Upload("forward.eml", content_type, eml)]),
    )

    def sent_yet():
        db.session.expire_all()
        return db.session.get(Communication, email.id).state == "sent"

    wait_for(sent_yet, what="the email to be sent")
    [received] = smtp_server.received
    message = received.message
    assert [part.defects for part in message.walk() if part.defects] == []
    forwarded, _pdf = message.iter_attachments()
    assert forwarded.get_filename() == "forward.eml"
    assert forwarded.get_content_type() == "application/octet-stream"
    assert forwarded.get_content() == eml


@pytest.mark.parametrize("jurisdiction", ["NZ", "US"])
def test_the_email_carries_its_jurisdictions_statement(demo, worker, smtp_server, jurisdiction):
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    claim = db.session.get(ProgressClaim, claim_id)
    claim.head_contract.jurisdiction = jurisdiction
    db.session.commit()
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    email = send_claim_email(claim, sender, Draft(to=["olivia@owner.example"]))

    def sent_yet():
        db.session.expire_all()
        return db.session.get(Communication, email.id).state == "sent"

    wait_for(sent_yet, what="the email to be sent")
    [received] = smtp_server.received
    _, html, text = parts(received)
    statement = claim_statement(jurisdiction)
    if statement is None:  # US: no Act asks for words
        assert "Act" not in text
        return
    # New Zealand: the claim says it is made under the Act and carries the outline.
    for body in (words(re.sub(r"<[^>]+>", " ", html)), words(text)):
        assert words(statement.text) in body
        assert "IMPORTANT NOTICE" in body and "20 working days" in body


def test_a_company_with_no_profile_and_no_tax_still_reads_right(ctx):
    data = example_file()
    data["company"]["terminology"] = "en-US"
    ids = import_file(db.session, data)
    contract = ids["projects"][0]["head_contracts"][0]
    claim = db.session.get(ProgressClaim, contract["claims"][0]["id"])
    sender = db.session.scalar(sa.select(User).where(User.email == "pm@acme.example"))
    email = compose_email(
        db.session, claim, sender, Draft(to=["olivia@owner.example"]), mail_settings(), file_store()
    )
    db.session.flush()
    values = render(email, file_store())
    html, text = words(re.sub(r"<[^>]+>", " ", values["html_body"])), words(values["text_body"])
    due = claim.figures().summary.current_payment_due
    for body in (html, text):
        # The trading name heads the letterhead when there is no legal name.
        assert "Acme Builders Owner Invoice #1" in body or "Acme Builders OWNER INVOICE #1" in body
        assert f"${due:,.2f} is due, for work from 10/01/2026 to 10/31/2026." in body
        assert "tax" not in body.lower() and "EIN" not in body and " Act" not in body
        assert f"Current payment due ${due:,.2f}" in body
    [pdf] = email.attachments
    assert pdf.generated and pdf.filename == "Owner Invoice 1 - HC-1.pdf"
