"""Which email a received message belongs to when its clues disagree (DESIGN.md's order:
the token in the envelope, then in To/Cc/Delivered-To/X-Original-To, then In-Reply-To, then
References), and a bounce that names our email only in the message it returns."""

from email.message import EmailMessage
from itertools import count

import pytest
import sqlalchemy as sa

from models import Communication, InboundMessage, ProgressClaim, User
from models.compose import Draft
from web.emails import send_claim_email
from web.extensions import db
from workers.actors import process_inbound
from workers.intake import take_in
from workers.mailreader import parse_mail
from workers.replies import find_email


@pytest.fixture
def emails(demo, broker) -> list[Communication]:
    """Four emails of the demo's claim 3 (queued: only their tokens and ids matter here)."""
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    claim = db.session.get(ProgressClaim, claim_id)
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    return [
        send_claim_email(claim, sender, Draft(to=["olivia@owner.example"], subject=f"Copy {n}"))
        for n in range(4)
    ]


def address(email: Communication) -> str:
    return f"claims+{email.reply_token}@replies.localhost"


REPLY_NUMBERS = count(1)


def message(to: str, in_reply_to: str, references: str) -> bytes:
    reply = EmailMessage()
    reply["From"], reply["To"] = "olivia@owner.example", to
    reply["Message-ID"] = f"<{next(REPLY_NUMBERS)}@owner.example>"
    reply["In-Reply-To"], reply["References"] = in_reply_to, references
    reply.set_content("Approved.")
    return bytes(reply)


NOBODY = "accounts@harbourside.example"
UNKNOWN_ID = "<never-sent@replies.localhost>"


# (envelope recipient, To, In-Reply-To, References) as indexes into `emails` (None: nothing
# of ours), and which email wins by which method.
@pytest.mark.parametrize(
    ("envelope", "to", "in_reply_to", "references", "winner", "method"),
    [
        (0, 1, 2, 3, 0, "token_envelope"),
        (None, 1, 2, 3, 1, "token_header"),
        (None, None, 2, 3, 2, "in_reply_to"),
        (None, None, None, 3, 3, "references"),
        (None, "forged", 2, 3, 2, "in_reply_to"),  # a token that fails its signature counts not
    ],
)
def test_when_token_in_reply_to_and_references_disagree_the_design_order_decides(
    emails, envelope, to, in_reply_to, references, winner, method
):
    def pick(index, render, nothing):
        return nothing if index is None else render(emails[index])

    token = emails[1].reply_token
    forged_token = token[:-1] + ("x" if token[-1] != "x" else "y")  # one signature character off
    forged = f"claims+{forged_token}@replies.localhost"
    raw = message(
        forged if to == "forged" else pick(to, address, NOBODY),
        pick(in_reply_to, lambda e: e.message_id, UNKNOWN_ID),
        pick(references, lambda e: f"{UNKNOWN_ID} {e.message_id}", UNKNOWN_ID),
    )
    inbound = InboundMessage(envelope_to=pick(envelope, address, ""))
    match = find_email(inbound, parse_mail(raw))
    assert (match.communication.id, match.method) == (emails[winner].id, method)


def test_disagreeing_clues_land_the_reply_on_the_tokens_email_through_the_worker(
    emails, monkeypatch
):
    monkeypatch.setattr(process_inbound, "send", lambda *a, **k: None)  # processed right here
    raw = message(address(emails[0]), emails[1].message_id, emails[2].message_id)
    stored, _ = take_in(raw, "ingest")
    process_inbound.fn(stored.id)
    db.session.expire_all()
    stored = db.session.get(InboundMessage, stored.id)
    assert (stored.communication_id, stored.match_method) == (emails[0].id, "token_header")


def returned_only_bounce(email: Communication) -> bytes:
    """A DSN sent to a rewritten bounce address, with no threading headers of its own: only
    the returned message's headers name our email."""
    return (
        b"From: MAILER-DAEMON@mx.owner.example (Mail Delivery System)\r\n"
        b"To: bounces@harbourside.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <dsn-1@mx.owner.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.owner.example\r\n\r\n"
        b"Final-Recipient: rfc822; olivia@owner.example\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        b"--r\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"From: Priya <" + address(email).encode() + b">\r\n"
        b"To: Olivia Owner <olivia@owner.example>\r\n"
        b"Subject: " + email.subject.encode() + b"\r\n"
        b"Message-ID: " + email.message_id.encode() + b"\r\n"
        b"--r--\r\n"
    )


def test_a_bounce_matched_only_by_the_returned_message_id_bounces_that_recipient(
    emails, monkeypatch
):
    monkeypatch.setattr(process_inbound, "send", lambda *a, **k: None)
    bounced = emails[3]
    raw = returned_only_bounce(bounced).replace(address(bounced).encode(), NOBODY.encode())
    stored, _ = take_in(raw, "ingest", "", ["bounces@harbourside.example"])
    process_inbound.fn(stored.id)
    db.session.expire_all()
    stored = db.session.get(InboundMessage, stored.id)
    assert (stored.status, stored.communication_id) == ("bounce", bounced.id)
    assert stored.match_method == "references"
    [olivia] = db.session.get(Communication, bounced.id).recipients
    assert olivia.status == "bounced" and olivia.detail.startswith("5.1.1")
