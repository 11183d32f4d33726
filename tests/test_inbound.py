"""Replies coming back: the SMTP listener, the webhook and `ingest`, matched to our emails,
classified, verified, and turned into the client's written decision."""

import hashlib
import hmac
import re
import smtplib
import threading
import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
import sqlalchemy as sa

import workers.intake
from models import (
    ClaimDecision,
    Communication,
    Company,
    InboundMessage,
    InboundStatus,
    ProgressClaim,
    Recipient,
    Reply,
)
from models.claim_decision import apply_decision
from models.communication import EmailState, move
from models.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD
from models.errors import DomainError
from models.storage import FileStore
from tests.conftest import wait_for
from tests.mail import free_port
from web.extensions import db
from workers.actors import process_inbound, send_email
from workers.inbound_smtp import start_inbound_smtp
from workers.intake import REFUSALS_PER_SENDER, take_in
from workers.reconciler import MAX_PROCESSING_ATTEMPTS, sweep_inbound

FIXTURES = Path(__file__).parent / "fixtures" / "inbound"
FIXTURE_TOKEN = b"1abcdefghijklmnopawynzkbvltpjlzum"
SECRET = "webhook-secret"


def state(email_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Communication, email_id).state


def reply_address(email: Communication) -> str:
    return f"claims+{email.reply_token}@replies.localhost"


def reply_to(
    email: Communication,
    body: str,
    sender: str = "Olivia Owner <olivia@owner.example>",
    to: str | None = None,
    **headers,
) -> bytes:
    """A reply as a mail client writes it, threaded on our Message-ID."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to or reply_address(email)
    message["Subject"] = f"Re: {email.subject}"
    message["Message-ID"] = f"<{time.time_ns()}@mail.owner.example>"
    message["In-Reply-To"] = email.message_id
    message["References"] = email.message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(f"{body}\n\nOn Tue, 3 Nov 2026, Priya wrote:\n> Our October claim.\n")
    return bytes(message)


def personalised(fixture: str, email: Communication) -> bytes:
    """A stored real-client fixture, re-addressed to the email this test sent."""
    return readdressed((FIXTURES / fixture).read_bytes(), email)


def readdressed(raw: bytes, email: Communication) -> bytes:
    """A message written to the fixtures' token and Message-ID, re-addressed to `email`."""
    raw = re.sub(
        rb"(?i)" + FIXTURE_TOKEN + rb"\.[0-9a-f]{8}@replies\.localhost",
        email.message_id.strip("<>").encode(),
        raw,
    )
    raw = raw.replace(FIXTURE_TOKEN.upper(), email.reply_token.upper().encode())
    return re.sub(rb"(?i)" + FIXTURE_TOKEN, email.reply_token.encode(), raw)


def smtp_send(port: int, raw: bytes, rcpt: str, mail_from: str = "olivia@owner.example"):
    """Send as a mail server does: the message on the wire has CRLF line ends."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        return client.sendmail(mail_from, [rcpt], re.sub(rb"\r?\n", b"\r\n", raw))


def reply_by(port: int, email: Communication, sender: str, body: str):
    """`sender` ("Name <address>") answers `email` through the listener, from their own server."""
    return smtp_send(
        port, reply_to(email, body, sender=sender), reply_address(email), parseaddr(sender)[1]
    )


def recipient(email_id: int, address: str) -> Recipient:
    """One recipient of the email as stored now (its delivery status and detail)."""
    db.session.expire_all()
    return next(r for r in db.session.get(Communication, email_id).recipients if r.email == address)


def replies_of(email_id: int) -> list[Reply]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Reply).where(Reply.communication_id == email_id).order_by(Reply.id)
    ).all()


def wait_for_replies(email_id: int, count: int = 1) -> list[Reply]:
    return wait_for(
        lambda: (r := replies_of(email_id)) and len(r) >= count and r, what=f"{count} reply(ies)"
    )


IN_PROGRESS = (InboundStatus.STORED, InboundStatus.PROCESSING)


def inbound_rows() -> list[InboundMessage]:
    db.session.expire_all()
    return db.session.scalars(sa.select(InboundMessage).order_by(InboundMessage.id)).all()


# --- the SMTP listener ---------------------------------------------------------------------


def test_an_approval_by_smtp_is_recorded_as_the_clients_written_decision(sent, listener):
    smtp_send(listener, reply_to(sent, "Approved.\n\nThanks, Olivia"), reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    assert (reply.from_address, reply.kind, reply.sender_verified) == (
        "olivia@owner.example",
        "reply",
        True,
    )
    assert (reply.decision, reply.text.splitlines()[0]) == ("approved", "Approved.")
    assert "> Our October claim." in reply.full_text and "Our October claim" not in reply.text
    assert reply.inbound.match_method == "token_envelope"
    assert state(sent.id) == "replied"
    [decision] = db.session.scalars(sa.select(ClaimDecision)).all()
    assert (decision.outcome, decision.person_name, decision.applied_at) == (
        "approved",
        "Olivia Owner",
        None,
    )
    assert (
        db.session.get(ProgressClaim, sent.claim_id).status == "under_review"
    )  # submitted by the email; waits for an admin


def test_a_rejection_moves_the_claim_when_the_company_says_so(sent, listener):
    db.session.get(Company, sent.claim.project.company_id).decisions_move_status = True
    db.session.commit()
    smtp_send(
        listener,
        reply_to(sent, "Rejected: line 14 is over-claimed.\nPlease revise."),
        reply_address(sent),
    )
    [reply] = wait_for_replies(sent.id)
    assert (reply.decision, reply.reason) == (
        "rejected",
        "line 14 is over-claimed.\nPlease revise.",
    )
    decision = db.session.scalar(sa.select(ClaimDecision))
    assert decision.applied_by == "ClaimPost (company setting)"
    assert db.session.get(ProgressClaim, sent.claim_id).status == "revise_and_resubmit"


@pytest.mark.parametrize(
    "shape",
    [
        "claims+{t}@replies.localhost",
        "CLAIMS+{T}@REPLIES.LOCALHOST",
        "claims.{t}@replies.localhost",
        "claims-{t}@replies.localhost",
    ],
)
def test_reply_addresses_survive_lower_casing_and_rewritten_separators(sent, listener, shape):
    address = shape.format(t=sent.reply_token, T=sent.reply_token.upper())
    smtp_send(listener, reply_to(sent, "Thanks, received.", to=address), address)
    [reply] = wait_for_replies(sent.id)
    assert reply.decision is None and reply.sender_verified


@pytest.mark.parametrize(
    "address",
    [
        "claims+{forged}@replies.localhost",
        "someone@replies.localhost",
        "claims+{t}@elsewhere.example",
    ],
)
def test_forged_or_foreign_addresses_are_refused_at_rcpt(sent, listener, address):
    forged = "1" + "a" * 32
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        smtp_send(
            listener,
            b"Subject: hi\r\n\r\nhello\r\n",
            address.format(forged=forged, t=sent.reply_token),
        )
    assert [code for code, _ in refused.value.recipients.values()] == [550]
    # Nothing was received, and nothing is processed; the operators see a trace of it, once.
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        smtp_send(
            listener,
            b"Subject: hi\r\n\r\nagain\r\n",
            address.format(forged=forged, t=sent.reply_token),
        )
    [trace] = inbound_rows()
    assert (trace.status, trace.size, trace.envelope_from) == ("refused", 0, "olivia@owner.example")
    assert trace.error == f"550 5.1.1 No such reply address: {trace.envelope_to}"
    assert replies_of(sent.id) == []


def test_oversized_mail_is_refused_with_552(app, sent):
    app.config["MAX_ATTACHMENT_BYTES"] = 1000
    port = free_port()
    controller = start_inbound_smtp(app, "127.0.0.1", port)  # limit = 1000 * 4/3 + 1 MiB
    app.config["MAX_ATTACHMENT_BYTES"] = 25 * 1024 * 1024
    try:
        with pytest.raises(smtplib.SMTPException) as refused:
            smtp_send(port, reply_to(sent, "x" * (2 * 2**20)), reply_address(sent))
    finally:
        controller.stop()
    assert "552" in str(refused.value)
    assert inbound_rows() == []


def test_the_same_message_twice_is_stored_and_processed_once(sent, listener, monkeypatch):
    enqueued = []
    monkeypatch.setattr(process_inbound, "send", enqueued.append)  # see what would be queued
    raw = reply_to(sent, "Approved")
    smtp_send(listener, raw, reply_address(sent))
    smtp_send(listener, raw, reply_address(sent))  # both got a 250
    [message] = inbound_rows()
    assert enqueued == [message.id]  # the second was known by its Message-ID: not queued
    process_inbound.fn(message.id)
    process_inbound.fn(message.id)  # and a redelivery of the one queued changes nothing
    assert [m.status for m in inbound_rows()] == ["matched"]
    assert len(replies_of(sent.id)) == 1


def test_a_reply_recorded_while_its_email_was_sending_marks_it_replied_once_sent(sent, monkeypatch):
    """The reply finds the email still `sending` (its own move to `replied` does nothing);
    the send's commit lands before the reply's (and could not see it): the reply's side
    must look again after its commit, or the email stays `sent` with a reply on record."""
    import workers.actors

    monkeypatch.setattr(process_inbound, "send", lambda _: None)  # processed here, below
    assert move(db.session, sent.id, {EmailState.SENT}, EmailState.SENDING)
    db.session.commit()
    message, _ = take_in(reply_to(sent, "Received, thanks"), "smtp", "", [reply_address(sent)])
    processing = workers.actors.process

    def while_the_send_commits(inbound):
        moved = processing(inbound)
        db.session.execute(
            sa.update(Communication).where(Communication.id == sent.id).values(state="sent")
        )
        return moved

    monkeypatch.setattr(workers.actors, "process", while_the_send_commits)
    process_inbound.fn(message.id)
    assert [r.kind for r in replies_of(sent.id)] == ["reply"]
    assert state(sent.id) == "replied"


def test_a_stranger_is_kept_unverified_and_decides_nothing(sent, listener):
    reply_by(listener, sent, "Mallory <mallory@evil.example>", "Approved")
    [reply] = wait_for_replies(sent.id)
    assert (reply.sender_verified, reply.decision) == (False, None)
    assert db.session.scalar(sa.select(sa.func.count(ClaimDecision.id))) == 0


def test_a_bcc_recipient_and_a_directory_member_are_verified(sent, listener):
    smtp_send(listener, reply_to(sent, "Approve", sender="quentin@qs.example"), reply_address(sent))
    smtp_send(
        listener, reply_to(sent, "Looks fine", sender="ava@architects.example"), reply_address(sent)
    )
    replies = wait_for_replies(sent.id, 2)
    assert {(r.from_address, r.sender_verified) for r in replies} == {
        ("quentin@qs.example", True),
        ("ava@architects.example", True),
    }


# --- real clients' messages, through `claimpost ingest` -------------------------------------


def ingest(app, tmp_path, raw: bytes) -> str:
    path = tmp_path / f"{time.time_ns()}.eml"
    path.write_bytes(raw)
    result = app.test_cli_runner().invoke(args=["ingest", str(path)])
    assert result.exit_code == 0, result.output
    return result.output


def deliver_via(channel: str, app, raw: bytes, email: Communication, tmp_path) -> None:
    """Feed a message in the way named: the SMTP listener, the signed webhook, or ingest."""
    if channel == "smtp":
        port = free_port()
        controller = start_inbound_smtp(app, "127.0.0.1", port)
        try:
            smtp_send(port, raw, reply_address(email))
        finally:
            controller.stop()
    elif channel == "webhook":
        app.config["INBOUND_WEBHOOK_SECRET"] = SECRET
        try:
            response = app.test_client().post("/inbound/mime", data=raw, headers=signed(raw))
        finally:
            app.config["INBOUND_WEBHOOK_SECRET"] = None
        assert response.status_code == 202, response.get_data(as_text=True)
    else:
        ingest(app, tmp_path, raw)


@pytest.mark.parametrize("channel", ["smtp", "webhook", "ingest"])
@pytest.mark.parametrize(
    "fixture, decision, first_line",
    [
        ("gmail_reply_approved.eml", "approved", "Approved."),
        ("outlook_desktop_rejected.eml", "rejected", "Rejected: line 14 over-claimed"),
        ("ios_mail_reply.eml", "approved", "Approve"),
    ],
)
def test_real_client_replies_are_matched_and_read(
    app, sent, tmp_path, fixture, decision, first_line, channel
):
    deliver_via(channel, app, personalised(fixture, sent), sent, tmp_path)
    [reply] = wait_for_replies(sent.id)
    assert reply.text.splitlines()[0].strip() == first_line
    assert (reply.kind, reply.sender_verified, reply.decision) == ("reply", True, decision)


@pytest.mark.parametrize("channel", ["smtp", "webhook"])
@pytest.mark.parametrize(
    "fixture",
    [
        "apple_mail_reply.eml",
        "thunderbird_reply.eml",
        "outlook_web_question.eml",
        "german_out_of_office.eml",
    ],
)
def test_other_clients_replies_land_on_the_email(app, sent, tmp_path, fixture, channel):
    deliver_via(channel, app, personalised(fixture, sent), sent, tmp_path)
    [reply] = wait_for_replies(sent.id)
    assert reply.text.strip()
    if "out_of_office" in fixture:
        assert (reply.kind, reply.decision) == ("auto_reply", None)
    else:  # the quoted claim email is stripped for display and kept in the whole text
        assert reply.kind == "reply" and len(reply.text) < len(reply.full_text)


def test_a_german_out_of_office_is_an_auto_reply_and_changes_nothing(app, sent, tmp_path):
    ingest(app, tmp_path, personalised("german_out_of_office.eml", sent))
    [reply] = wait_for_replies(sent.id)
    assert (reply.kind, reply.decision) == ("auto_reply", None)
    assert state(sent.id) == "sent"


def test_a_bounce_marks_the_recipient_bounced(app, sent, tmp_path):
    ingest(app, tmp_path, personalised("dsn_bounce.eml", sent))
    [reply] = wait_for_replies(sent.id)
    assert reply.kind == "bounce"
    olivia = recipient(sent.id, "olivia@owner.example")
    assert olivia.status == "bounced" and "5.1.1" in olivia.detail


def test_a_delayed_delivery_report_notes_the_delay_and_bounces_no_one(app, sent, tmp_path):
    raw = (FIXTURES / "dsn_delayed_headers_only.eml").read_bytes()
    raw = raw.replace(b"pat.manager@owner.example", b"olivia@owner.example")
    raw = raw.replace(
        b"1qrstuvwxyz234567i6yd2b7aybmhf5dr.1f2e3d4c@replies.localhost",
        sent.message_id.strip("<>").encode(),
    )
    ingest(app, tmp_path, raw)
    [reply] = wait_for_replies(sent.id)
    assert reply.kind == "bounce"
    olivia = recipient(sent.id, "olivia@owner.example")
    assert olivia.status == "accepted" and olivia.detail.startswith("delayed: 4.4.7")


def test_nul_bytes_and_a_huge_envelope_sender_lose_no_reply(app, sent, listener):
    """PostgreSQL refuses NUL in text and the envelope column has a size: neither may cost
    the client's answer."""
    raw = reply_to(sent, "Approved.\x00 Thanks", sender="olivia@owner.example")
    raw = raw.replace(b"Subject: ", b"Subject: \x00", 1)
    smtp_send(listener, raw, reply_address(sent), mail_from="o" * 250 + "@owner.example")
    [reply] = wait_for_replies(sent.id)
    assert (reply.decision, "\x00" in reply.full_text) == ("approved", False)
    assert len(reply.inbound.envelope_from) <= 300


@pytest.mark.parametrize(
    "fixture, method",
    [
        ("no_token_in_reply_to.eml", "in_reply_to"),
        ("comma_references.eml", "references"),
    ],
)
def test_replies_that_lost_the_token_thread_back_by_message_id(
    app, sent, tmp_path, fixture, method
):
    # As if forwarded through a list that rewrote the address: no reply address left at all.
    raw = personalised(fixture, sent).replace(
        reply_address(sent).encode(), b"accounts@harbourside.example"
    )
    ingest(app, tmp_path, raw)
    [reply] = wait_for_replies(sent.id)
    assert reply.inbound.match_method == method


def test_a_malformed_message_is_stored_flagged_and_crashes_nothing(app, sent, tmp_path):
    output = ingest(app, tmp_path, personalised("malformed.eml", sent))
    assert "1 new" in output
    [message] = wait_for(
        lambda: [m for m in inbound_rows() if m.status not in IN_PROGRESS] or None,
        what="the malformed message to be processed",
    )
    # Read, matched and flagged with what was wrong: not `failed`, which a crash would give.
    assert (message.status, message.match_method) == ("matched", "token_header")
    problems = message.error.split("; ")
    assert "Message-ID header has no msg-id: 'not a message id'" in problems
    assert "text/plain part: unknown charset 'x-unknown-42', decoded as cp1252" in problems
    assert "part 2 (application/pdf): invalid base64 length" in problems
    [reply] = replies_of(sent.id)
    assert reply.text.startswith("Approved, but the retention is wrong. Café on site.")
    assert [a.filename for a in reply.attachments] == ["markup.pdf"]


def test_ingest_reads_mbox_files_and_counts_duplicates(app, sent, tmp_path):
    first, second = reply_to(sent, "Approved"), reply_to(sent, "Question about line 3")
    mbox = b"".join(
        b"From olivia@owner.example Tue Nov  3 10:00:00 2026\n" + raw + b"\n"
        for raw in (first, second)
    )
    path = tmp_path / "replies.mbox"
    path.write_bytes(mbox)
    runner = app.test_cli_runner()
    assert "2 new, 0 already stored." in runner.invoke(args=["ingest", str(path)]).output
    assert "0 new, 2 already stored." in runner.invoke(args=["ingest", str(path)]).output
    wait_for_replies(sent.id, 2)


# --- the webhook ---------------------------------------------------------------------------


def signed(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "X-ClaimPost-Timestamp": ts,
        "X-ClaimPost-Signature": signature,
        "Content-Type": "message/rfc822",
    }


@pytest.fixture
def webhook(app):
    app.config["INBOUND_WEBHOOK_SECRET"] = SECRET
    yield app.test_client()
    app.config["INBOUND_WEBHOOK_SECRET"] = None


def test_the_webhook_stores_a_signed_message_and_refuses_replays(webhook, sent):
    body = reply_to(sent, "Approved")
    headers = signed(body)
    response = webhook.post("/inbound/mime", data=body, headers=headers)
    assert response.status_code == 202 and response.get_json()["duplicate"] is False
    assert webhook.post("/inbound/mime", data=body, headers=headers).status_code == 401
    shouted = {**headers, "X-ClaimPost-Signature": headers["X-ClaimPost-Signature"].upper()}
    assert webhook.post("/inbound/mime", data=body, headers=shouted).status_code == 401
    [reply] = wait_for_replies(sent.id)
    assert reply.decision == "approved"


@pytest.mark.parametrize("tamper", ["body", "secret", "stale", "future", "missing"])
def test_the_webhook_refuses_bad_signatures(webhook, sent, tamper):
    body = reply_to(sent, "Approved")
    headers = {
        "body": lambda: signed(body + b"x"),
        "secret": lambda: signed(body, secret="guess"),
        "stale": lambda: signed(body, int(time.time()) - 301),
        "future": lambda: signed(body, int(time.time()) + 301),
        "missing": lambda: {"Content-Type": "message/rfc822"},
    }[tamper]()
    response = webhook.post("/inbound/mime", data=body, headers=headers)
    assert response.status_code == 401 and "error" in response.get_json()
    assert inbound_rows() == []


def test_the_webhook_is_off_without_a_secret(app, sent):
    body = reply_to(sent, "Approved")
    assert (
        app.test_client().post("/inbound/mime", data=body, headers=signed(body)).status_code == 404
    )


def test_mail_received_while_the_broker_is_down_is_stored_and_processed_later(
    app, sent, listener, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(process_inbound, "send", broker_down)
    smtp_send(listener, reply_to(sent, "Approved"), reply_address(sent))  # still 250
    assert [m.status for m in inbound_rows()] == ["stored"]
    monkeypatch.undo()
    result = app.test_cli_runner().invoke(args=["sweep", "--older-than", "0"])
    assert "Re-enqueued 1 received message(s)." in result.output
    [reply] = wait_for_replies(sent.id)
    assert reply.decision == "approved"


def test_a_reply_without_a_display_name_gets_the_name_we_know(sent, listener):
    smtp_send(
        listener, reply_to(sent, "Approved", sender="olivia@owner.example"), reply_address(sent)
    )
    [reply] = wait_for_replies(sent.id)
    assert reply.from_name == "Olivia Owner"
    assert db.session.scalar(sa.select(ClaimDecision.person_name)) == "Olivia Owner"


def test_an_upper_cased_address_from_a_stranger_is_matched_but_decides_nothing(app, sent, tmp_path):
    # Only the upper-cased To header is left to carry the token.
    raw = re.sub(rb"Delivered-To: [^\n]*\n", b"", personalised("lowercased_address.eml", sent))
    assert reply_address(sent).upper().encode() in raw
    deliver_via("webhook", app, raw, sent, tmp_path)
    [reply] = wait_for_replies(sent.id)
    assert reply.text.startswith("APPROVED")  # Pat Manager is not in the directory:
    assert (reply.from_address, reply.sender_verified, reply.decision) == (
        "pat.manager@owner.example",
        False,
        None,
    )
    assert reply.inbound.match_method == "token_header"


def test_mail_from_our_own_reply_address_is_never_a_reply(sent, listener):
    loop = reply_to(sent, "Approved", sender=f"ClaimPost <{reply_address(sent)}>")
    smtp_send(listener, loop, reply_address(sent), mail_from=reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    assert (reply.kind, reply.decision) == ("auto_reply", None)
    assert state(sent.id) == "sent"


def test_an_attachment_over_the_limit_is_refused_and_the_reply_kept(app, sent, tmp_path):
    app.config["MAX_ATTACHMENT_BYTES"] = 100
    try:
        ingest(app, tmp_path, personalised("outlook_web_question.eml", sent))
        [reply] = wait_for_replies(sent.id)
    finally:
        app.config["MAX_ATTACHMENT_BYTES"] = 25 * 1024 * 1024
    [attachment] = reply.attachments
    assert (attachment.filename, attachment.refused, attachment.sha256) == (
        "markup.pdf",
        True,
        None,
    )
    assert reply.text.strip()


def test_an_attachment_within_the_limit_is_stored_by_its_hash(app, sent, tmp_path):
    ingest(app, tmp_path, personalised("outlook_web_question.eml", sent))
    [reply] = wait_for_replies(sent.id)
    [attachment] = reply.attachments
    stored = FileStore(app.config["STORAGE_DIR"]).read(attachment.sha256)
    assert attachment.refused is False and len(stored) == attachment.size
    assert stored.startswith(b"%PDF")


def test_ingest_reads_standard_input(app, sent):
    result = app.test_cli_runner().invoke(
        args=["ingest", "-"], input=reply_to(sent, "Approved from a pipe")
    )
    assert result.exit_code == 0 and "1 new, 0 already stored." in result.output
    [reply] = wait_for_replies(sent.id)
    assert reply.text.startswith("Approved from a pipe")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-ClaimPost-Timestamp": "9" * 5000},
        {"X-ClaimPost-Signature": "é" * 64},
        {"X-ClaimPost-Signature": "zz"},
    ],
)
def test_hostile_webhook_headers_are_refused_not_errors(webhook, sent, headers):
    body = reply_to(sent, "Approved")
    response = webhook.post("/inbound/mime", data=body, headers={**signed(body), **headers})
    assert response.status_code == 401


def test_a_webhook_retry_after_our_failure_is_not_a_replay(webhook, sent, monkeypatch):
    body = reply_to(sent, "Approved")
    headers = signed(body)
    monkeypatch.setattr(
        "web.inbound.take_in", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full"))
    )
    assert webhook.post("/inbound/mime", data=body, headers=headers).status_code == 503
    monkeypatch.undo()
    assert webhook.post("/inbound/mime", data=body, headers=headers).status_code == 202
    assert webhook.post("/inbound/mime", data=body, headers=headers).status_code == 401
    wait_for_replies(sent.id)


def test_a_message_processed_twice_at_once_is_processed_once(app, sent, monkeypatch):
    monkeypatch.setattr(process_inbound, "send", lambda *a, **k: None)  # no worker involvement
    message, _ = take_in(reply_to(sent, "Approved"), "ingest")
    start, errors = threading.Barrier(2), []

    def second_worker() -> None:  # a redelivery taken by another worker, at the same moment
        with app.app_context():  # its own database session
            try:
                start.wait(timeout=10)
                process_inbound.fn(message.id)
            except Exception as exc:  # reported below, not lost on the thread
                errors.append(exc)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=second_worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=30)
    assert errors == []
    db.session.expire_all()
    assert db.session.get(InboundMessage, message.id).status == "matched"
    assert len(replies_of(sent.id)) == 1
    assert db.session.scalar(sa.select(sa.func.count(ClaimDecision.id))) == 1


def test_the_decision_time_is_ours_not_the_senders_date_header(sent, listener):
    smtp_send(
        listener,
        reply_to(sent, "Approved", Date="Mon, 01 Jan 2024 09:00:00 +0000"),
        reply_address(sent),
    )
    [reply] = wait_for_replies(sent.id)
    decision = db.session.scalar(sa.select(ClaimDecision))
    assert reply.dated_at.year == 2024  # what the sender's header says, kept as "dated"
    assert reply.received_at == reply.inbound.received_at  # the reply's time is ours
    assert decision.decided_at.year == reply.inbound.received_at.year != 2024


@pytest.mark.parametrize(
    "date", ["Fri, 31 Dec 9999 23:59:59 +0000", "Thu, 01 Jan 1970 00:00:00 +0000", "yesterday"]
)
def test_a_date_that_cannot_be_shown_breaks_no_page(sent, listener, login, date):
    """Year 9999 made the claim page answer 500 for everyone (OverflowError converting it to
    the company's zone); a Date before 1990 is no real date for a reply either."""
    smtp_send(listener, reply_to(sent, "Thanks, received.", Date=date), reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    assert reply.dated_at is None and reply.received_at is not None
    client = login(DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)
    page = client.get(f"/admin/claims/details/?id={sent.claim_id}&tab=emails")
    assert page.status_code == 200 and "Thanks, received." in page.get_data(as_text=True)
    inbound = client.get(f"/admin/inbound/details/?id={reply.inbound_id}")
    assert inbound.status_code == 200


def test_ingest_skips_empty_and_oversized_messages(app, sent, tmp_path):
    app.config["MAX_ATTACHMENT_BYTES"] = 10
    try:
        (tmp_path / "big.eml").write_bytes(reply_to(sent, "x" * (2 * 2**20)))
        (tmp_path / "empty.eml").write_bytes(b"\n")
        result = app.test_cli_runner().invoke(
            args=["ingest", str(tmp_path / "big.eml"), str(tmp_path / "empty.eml")]
        )
    finally:
        app.config["MAX_ATTACHMENT_BYTES"] = 25 * 1024 * 1024
    assert "0 new, 0 already stored." in result.output
    assert inbound_rows() == []


def test_a_colleagues_approval_is_kept_but_decides_nothing(sent, listener):
    """Priya (the contractor's own PM, copied on the email) answering "Approved" to a
    reply-all is not the client's word."""
    reply_by(listener, sent, "Priya PM <priya.pm@harbourside.example>", "Approved")
    [reply] = wait_for_replies(sent.id)
    assert (reply.sender_verified, reply.decision) == (True, None)
    assert db.session.scalar(sa.select(sa.func.count(ClaimDecision.id))) == 0


def test_a_known_sender_is_named_as_the_directory_knows_them(sent, listener):
    reply_by(listener, sent, '"Olivia Owner (Director)" <quentin@qs.example>', "Looks fine")
    reply_by(listener, sent, '"Quentin Surveyor (QS)" <olivia@owner.example>', "Approved")
    by_address = {r.from_address: r for r in wait_for_replies(sent.id, 2)}
    quentins, olivias = by_address["quentin@qs.example"], by_address["olivia@owner.example"]
    assert quentins.from_name == "Quentin Surveyor" and olivias.from_name == "Olivia Owner"
    decision = db.session.scalar(sa.select(ClaimDecision))
    assert (decision.person_name, decision.person_email) == ("Olivia Owner", "olivia@owner.example")


def test_a_reply_while_a_greylisted_recipient_is_retried_still_marks_the_email_replied(
    sent, listener, smtp_server
):
    quentin = next(r for r in sent.recipients if r.email == "quentin@qs.example")
    quentin.status = "pending"  # as if his server said 451 and the retry is due
    move(db.session, sent.id, {EmailState.SENT}, EmailState.RENDERED)
    db.session.commit()
    smtp_send(listener, reply_to(sent, "Approved"), reply_address(sent))
    wait_for_replies(sent.id)
    assert state(sent.id) == "rendered"  # the retry must still go out

    send_email.send(sent.id)
    wait_for(lambda: state(sent.id) == "replied", what="the retried email to be replied")
    assert smtp_server.received[-1].rcpt_tos == ["quentin@qs.example"]


def test_a_decision_applied_while_another_changed_the_claim_changes_nothing(sent, listener):
    smtp_send(listener, reply_to(sent, "Rejected: line 14 over-claimed"), reply_address(sent))
    wait_for_replies(sent.id)
    decision = db.session.scalar(sa.select(ClaimDecision))
    claim = decision.claim
    claim.status = "under_review"
    db.session.commit()
    assert claim.status == "under_review"  # as this admin's page saw it
    with db.engine.begin() as other_admin:  # who applied Olivia's approval a moment earlier
        other_admin.execute(
            sa.update(ProgressClaim).where(ProgressClaim.id == claim.id).values(status="approved")
        )

    with pytest.raises(DomainError, match="changed status meanwhile"):
        apply_decision(db.session, decision, "Alex Admin")
    db.session.rollback()

    db.session.expire_all()
    assert (claim.status, decision.applied_at) == ("approved", None)


def test_a_decision_the_claim_cannot_take_is_kept_unapplied_with_its_reply(sent, listener):
    """Company setting on, but the claim is already approved (final): the rejection is still
    the client's written word on record, the reply is kept, and nothing fails."""
    db.session.get(Company, sent.claim.project.company_id).decisions_move_status = True
    sent.claim.status = "approved"
    db.session.commit()
    smtp_send(listener, reply_to(sent, "Rejected: line 14 over-claimed"), reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    decision = db.session.scalar(sa.select(ClaimDecision))
    assert (decision.outcome, decision.applied_at) == ("rejected", None)
    assert reply.inbound.status == "matched"
    db.session.expire_all()
    assert db.session.get(ProgressClaim, sent.claim_id).status == "approved"


def test_a_flood_of_refused_guesses_leaves_a_bounded_trace(sent, listener):
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client:
        client.ehlo()
        client.mail("spammer@evil.example")
        for guess in range(REFUSALS_PER_SENDER + 10):
            assert client.rcpt(f"claims+guess{guess}\x00@replies.localhost")[0] == 550
    rows = inbound_rows()
    assert len(rows) == REFUSALS_PER_SENDER
    assert all(row.status == "refused" and "\x00" not in row.error for row in rows)


def test_a_flood_from_strangers_does_not_crowd_out_a_known_clients_refusal(
    sent, listener, monkeypatch
):
    """540 bogus RCPTs from ever-new senders filled the hourly trace, so the client whose
    reply address a list server mangled a moment later left no trace at all."""
    monkeypatch.setattr(workers.intake, "REFUSALS_PER_HOUR", 5)
    with smtplib.SMTP("127.0.0.1", listener, timeout=10) as client:
        for n in range(12):
            client.ehlo()
            client.mail(f"bot{n}@evil.example")
            assert client.rcpt(f"claims+guess{n}@replies.localhost")[0] == 550
            client.rset()
        client.mail("olivia@owner.example")
        assert client.rcpt("claims+mangled@replies.localhost")[0] == 550
    rows = inbound_rows()
    assert sum(r.envelope_from.startswith("bot") for r in rows) == 5
    assert [r.envelope_to for r in rows if r.envelope_from == "olivia@owner.example"] == [
        "claims+mangled@replies.localhost"
    ]


@pytest.mark.parametrize(
    ("attempts", "after"), [(1, "stored"), (MAX_PROCESSING_ATTEMPTS, "failed")]
)
def test_a_message_that_outlasts_every_worker_ends_failed_not_in_a_loop(
    app, sent, monkeypatch, attempts, after
):
    monkeypatch.setattr(process_inbound, "send", lambda *a, **k: None)  # no worker involvement
    message, _ = take_in(reply_to(sent, "Approved"), "ingest")
    message.status, message.processing_attempts = "processing", attempts  # its worker died
    message.status_changed_at = message.status_changed_at - timedelta(hours=1)
    db.session.commit()
    sweep_inbound(timedelta(0))
    db.session.expire_all()
    stored = db.session.get(InboundMessage, message.id)
    assert stored.status == after
    if after == "failed":
        assert f"never finished in {attempts} attempts" in stored.error


def test_raw_8bit_bytes_in_a_leading_continuation_line_still_record_the_reply(sent, listener):
    """A first header line that is a continuation carrying raw 8-bit bytes: the parser's
    problem text holds the escaped bytes, which no database can store; the reply got a 250,
    so it must still be recorded (and flagged), on SQLite and on PostgreSQL."""
    raw = b" \xe9t\xe9 continued\r\n" + reply_to(sent, "Approved.")
    smtp_send(listener, raw, reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    [message] = inbound_rows()
    assert message.status == "matched"
    assert "continuation" in message.error and "\ufffd" in message.error
    assert reply.text.startswith("Approved")


# --- reading the answer, forwards and bounces, end to end ----------------------------------


def test_an_approval_the_client_quotes_records_no_decision(sent, listener):
    body = "> Approved for payment.\n\nThanks Sam, we will look at it on Monday."
    smtp_send(listener, reply_to(sent, body), reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    assert (reply.kind, reply.sender_verified, reply.decision) == ("reply", True, None)
    assert reply.text.startswith("> Approved for payment.\n\nThanks Sam")
    assert state(sent.id) == "replied"


def test_an_answer_between_quotes_decides_from_the_clients_own_line(sent, listener):
    body = "> Can you confirm it is approved?\n\nRejected: line 14 is at 40%, not 65%."
    smtp_send(listener, reply_to(sent, body), reply_address(sent))
    [reply] = wait_for_replies(sent.id)
    assert (reply.decision, reply.reason) == ("rejected", "line 14 is at 40%, not 65%.")


def test_a_forwarded_approval_is_kept_and_decides_nothing(app, sent, tmp_path):
    raw = personalised("gmail_forward.eml", sent).replace(
        b"From: Mary Chen <mary.chen@owner.example>", b"From: Olivia Owner <olivia@owner.example>"
    )
    ingest(app, tmp_path, raw)
    [reply] = wait_for_replies(sent.id)
    assert (reply.kind, reply.sender_verified, reply.decision) == ("reply", True, None)
    assert reply.text == "Sam, see John's answer below; he is away this week.\n\nMary"
    assert reply.forwarded.startswith("From: John Director <john@owner.example>")
    assert reply.forwarded.endswith("Approved. Please ask Sam to send the tax invoice.\n\nJohn")


@pytest.mark.parametrize(
    "fixture, bounced, status",
    [
        ("gmail_plain_bounce.eml", "olivia@owner.example", "5.1.1"),
        ("office365_ndr.eml", "olivia@owner.example", "5.1.10"),
        ("qmail_bounce.eml", "olivia@owner.example", "5.1.1"),
        ("sendmail_bounce.eml", "olivia@owner.example", "5.1.1"),
        ("exchange_plain_ndr.eml", "quentin@qs.example", "5.1.1"),
        ("exim_bounce.eml", "quentin@qs.example", "5.2.2"),
        ("postfix_partial_bounce.eml", "quentin@qs.example", "5.2.2"),
    ],
)
def test_each_kind_of_bounce_marks_the_right_recipient(
    app, sent, tmp_path, fixture, bounced, status
):
    raw = personalised(fixture, sent).replace(b"pat.manager@owner.example", b"quentin@qs.example")
    ingest(app, tmp_path, raw)
    [reply] = wait_for_replies(sent.id)
    assert reply.kind == "bounce"
    target = recipient(sent.id, bounced)
    assert target.status == "bounced" and target.detail.startswith(status)
    others = {"olivia@owner.example", "priya.pm@harbourside.example", "quentin@qs.example"}
    for other in others - {bounced}:
        assert recipient(sent.id, other).status == "accepted"
    assert state(sent.id) == "sent"


def test_a_plain_delay_notice_bounces_no_one(app, sent, tmp_path):
    raw = personalised("gmail_delay_notice.eml", sent).replace(
        b"pat.manager@owner.example", b"olivia@owner.example"
    )
    ingest(app, tmp_path, raw)
    [reply] = wait_for_replies(sent.id)
    assert reply.kind == "bounce"
    olivia = recipient(sent.id, "olivia@owner.example")
    assert olivia.status == "accepted" and olivia.detail.startswith("delayed: 4.4.1")


@pytest.mark.parametrize("fixture", ["list_copy.eml", "noreply_notification.eml"])
def test_list_copies_and_noreply_mail_are_auto_replies_that_decide_nothing(
    app, sent, tmp_path, fixture
):
    ingest(app, tmp_path, personalised(fixture, sent))
    [reply] = wait_for_replies(sent.id)
    assert (reply.kind, reply.decision) == ("auto_reply", None)
    assert state(sent.id) == "sent"
