"""The life of a claim email through the real broker, a real worker and a real SMTP server."""

import hashlib
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from models import BillingPermission, Communication, ProgressClaim, User
from models.claim import ClaimStatus, move_claim_status, set_claim_lines
from models.communication import move
from models.compose import Draft, Upload
from models.errors import PermissionDenied
from models.storage import FileStore
from tests.conftest import wait_for
from tests.test_scale import recorded
from web.emails import retry_email, send_claim_email
from web.extensions import db
from workers.actors import render_email, send_email
from workers.middleware import PeriodicSweep
from workers.reconciler import sweep
from workers.render import snapshot

PDF = b"%PDF-1.4\n% a marked-up schedule\n" + bytes(range(256)) * 4


@pytest.fixture
def claim(demo) -> ProgressClaim:
    claims = demo["projects"][0]["head_contracts"][0]["claims"]
    return db.session.get(ProgressClaim, claims[2]["id"])


@pytest.fixture
def sender(demo) -> User:
    return db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))


def draft(**changes) -> Draft:
    values = {
        "to": ["olivia@owner.example"],
        "cc": ["priya.pm@harbourside.example"],
        "bcc": ["quentin@qs.example"],
        "message": "Hi Olivia,\nOur October claim.",
        "uploads": [Upload("Marked up <schedule>.pdf", "application/pdf", PDF)],
    }
    return Draft(**{**values, **changes})


def state_of(email_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Communication, email_id).state


def reaches(email_id: int, state: str) -> bool:
    return state_of(email_id) == state


def test_a_composed_email_arrives_as_the_client_sees_it(claim, sender, worker, smtp_server):
    email = send_claim_email(claim, sender, draft())
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent")

    [received] = smtp_server.received
    token = email.reply_token
    assert received.mail_from == f"claims+{token}@replies.localhost"
    assert sorted(received.rcpt_tos) == [
        "olivia@owner.example",
        "priya.pm@harbourside.example",
        "quentin@qs.example",
    ]
    message = received.message
    [sender_address] = message["From"].addresses
    assert sender_address.display_name == "Priya Patel via Harbourside Constructions Pty Ltd"
    assert sender_address.addr_spec == f"claims+{token}@replies.localhost"
    assert message["Reply-To"] == message["From"]
    assert message["To"] == "Olivia Owner <olivia@owner.example>"
    assert message["Cc"] == "Priya Patel <priya.pm@harbourside.example>"
    assert message["Bcc"] is None and b"quentin" not in received.raw
    assert message["Subject"] == (
        "Progress Claim #3 for Head Contract #HC-1 - 01/10/2026 - 31/10/2026"
    )
    assert message["Message-ID"].strip() == email.message_id
    assert email.message_id.startswith(f"<{token}.")
    assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert b"\r\n" in received.raw

    html = message.get_body(("html",)).get_content()
    # premailer inlined the CSS; only the narrow-screen media query stays in a <style>.
    [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert style.strip().startswith("@media") and 'style="' in html
    assert "$233,822.11" in html and "Our October claim." in html
    assert "/admin" not in html
    text = message.get_body(("plain",)).get_content()
    assert "$233,822.11" in text and "Hi Olivia," in text
    # Every line's description in full, wrapped under its row rather than cut off.
    words = set(text.split())
    for line in claim.figures().lines:
        assert set(line.description.split()) <= words, line.description
    attachment, claim_pdf = list(message.iter_attachments())
    assert attachment.get_filename() == "Marked up _schedule_.pdf"
    assert attachment.get_content() == PDF
    assert claim_pdf.get_filename() == "Progress Claim 3 - HC-1.pdf"  # made at rendering

    db.session.expire_all()
    stored = db.session.get(Communication, email.id)
    assert [e.state for e in stored.events] == ["queued", "rendered", "sending", "sent"]
    assert {r.email: r.status for r in stored.recipients} == {
        "olivia@owner.example": "accepted",
        "priya.pm@harbourside.example": "accepted",
        "quentin@qs.example": "accepted",
    }
    assert stored.attachments[0].sha256 == hashlib.sha256(PDF).hexdigest()
    assert [a.generated for a in stored.attachments] == [False, True]
    assert stored.sent_at is not None


def test_the_emails_tab_keeps_what_was_sent_when_the_claim_changes(claim, sender, worker):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent")
    db.session.expire_all()
    sent = db.session.get(Communication, email.id)
    html, figures = sent.html_body, sent.figures_json
    assert json.loads(figures)["summary"]["current_payment_due"] == "233822.11"

    # Emailing the draft submitted it; the client sends it back, and the lines change.
    assert sent.claim.status == "under_review"
    move_claim_status(db.session, sent.claim, ClaimStatus.REVISE_AND_RESUBMIT)
    db.session.commit()
    set_claim_lines(sent.claim, {"9": (sent.claim.figures().lines[8].this_period + 1000, 0)})
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Communication, email.id)
    assert again.claim.figures().summary.current_payment_due != Decimal("233822.11")
    assert (again.html_body, again.figures_json) == (html, figures)


def test_a_server_that_says_try_later_gets_the_email_on_a_later_attempt(
    claim, sender, worker, smtp_server
):
    smtp_server.handler.data_replies = ["451 4.3.0 Try again later", "451 4.3.0 Still busy"]
    email = send_claim_email(claim, sender, draft(uploads=[]))
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent after retries")
    assert len(smtp_server.received) == 1
    assert smtp_server.handler.data_attempts == 3
    db.session.expire_all()
    sent = db.session.get(Communication, email.id)
    assert sent.attempts == 3
    assert [e.state for e in sent.events] == [
        "queued",
        "rendered",
        "sending",
        "rendered",
        "sending",
        "rendered",
        "sending",
        "sent",
    ]
    assert "451" in sent.events[3].note


def test_transient_trouble_that_never_ends_fails_the_email(
    claim, sender, worker, smtp_server, mail_config
):
    mail_config["SEND_MAX_ATTEMPTS"] = 2
    smtp_server.handler.data_replies = ["451 busy"] * 10
    email = send_claim_email(claim, sender, draft(uploads=[]))
    wait_for(lambda: reaches(email.id, "failed"), what="the email to fail")
    db.session.expire_all()
    failed = db.session.get(Communication, email.id)
    assert failed.attempts == 2 and "451 busy" in failed.last_error
    assert smtp_server.received == []


def test_a_refusal_for_every_recipient_fails_at_once_and_an_operator_retry_sends_it(
    claim, sender, worker, smtp_server
):
    smtp_server.handler.rcpt_reply = "550 5.1.1 No such user"
    email = send_claim_email(claim, sender, draft(uploads=[]))
    wait_for(lambda: reaches(email.id, "failed"), what="the email to fail")
    db.session.expire_all()
    failed = db.session.get(Communication, email.id)
    assert failed.attempts == 1 and "550" in failed.last_error
    assert {r.status for r in failed.recipients} == {"rejected"}
    snapshot = failed.snapshot_sha256

    smtp_server.handler.rcpt_reply = None  # the server is healthy again
    assert retry_email(failed, "Alex Admin")
    wait_for(lambda: reaches(email.id, "sent"), what="the retried email to be sent")
    db.session.expire_all()
    sent = db.session.get(Communication, email.id)
    assert len(smtp_server.received) == 1
    assert sent.snapshot_sha256 == snapshot  # a retry sends what was first rendered
    retried = [e for e in sent.events if e.actor == "Alex Admin"]
    assert [e.state for e in retried] == ["queued"]
    assert {r.status for r in sent.recipients} == {"accepted"}


def test_a_recipient_refused_for_good_is_recorded_and_the_others_get_it(
    claim, sender, worker, smtp_server
):
    class RefuseQuentin(type(smtp_server.handler)):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("quentin"):
                return "550 5.1.1 Mailbox unavailable"
            return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    smtp_server.handler.__class__ = RefuseQuentin
    email = send_claim_email(claim, sender, draft(uploads=[]))
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent")
    db.session.expire_all()
    statuses = {
        r.email: (r.status, r.detail[:3])
        for r in db.session.get(Communication, email.id).recipients
    }
    assert statuses["quentin@qs.example"] == ("rejected", "550")
    assert statuses["olivia@owner.example"] == ("accepted", "250")


def test_the_same_send_message_delivered_three_times_makes_one_smtp_transaction(
    claim, sender, smtp_server, broker, mail_config, request
):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    broker.flush_all()  # rendered here, as after an attempt that met trouble...
    rendered = db.session.get(Communication, email.id)
    assert move(db.session, email.id, {"queued"}, "rendered", **snapshot(rendered))
    db.session.commit()
    for _ in range(3):  # ...then its send, redelivered twice, all for a `rendered` email
        send_email.send(email.id)
    worker = request.getfixturevalue("worker")
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent")
    broker.join("email", timeout=10_000)
    worker.join()
    assert len(smtp_server.received) == 1


def test_losing_the_broker_loses_no_email(
    claim, sender, broker, app, mail_config, smtp_server, request
):
    emails = [
        send_claim_email(claim, sender, draft(uploads=[], subject=f"Claim copy {n}"))
        for n in range(3)
    ]
    broker.flush_all()  # Redis flushed: the queued messages are gone
    assert {state_of(e.id) for e in emails} == {"queued"}

    request.getfixturevalue("worker")
    assert sorted(sweep(older_than=timedelta(0))) == sorted(e.id for e in emails)
    for email in emails:
        wait_for(lambda email=email: reaches(email.id, "sent"), what="every email to be sent")
    assert sorted(r.message["Subject"] for r in smtp_server.received) == [
        "Claim copy 0",
        "Claim copy 1",
        "Claim copy 2",
    ]


def test_the_reconciler_leaves_fresh_and_finished_emails_alone(claim, sender, broker):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    assert sweep(older_than=timedelta(minutes=2)) == []
    db.session.get(Communication, email.id).state = "sent"
    db.session.commit()
    assert sweep(older_than=timedelta(0)) == []


def test_an_email_interrupted_while_sending_is_sent_again(
    claim, sender, broker, request, smtp_server
):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    broker.flush_all()
    db.session.get(Communication, email.id).state = "sending"  # its worker died mid-send
    db.session.commit()
    request.getfixturevalue("worker")
    assert sweep(older_than=timedelta(0)) == []  # it may still be talking to the server
    assert sweep(older_than=timedelta(0), sending_older_than=timedelta(0)) == [email.id]
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent")
    assert len(smtp_server.received) == 1


def test_read_only_users_cannot_send(claim, make_user, broker):
    reader = make_user("reader@harbourside.example", claim.project.id, BillingPermission.READ_ONLY)
    with pytest.raises(PermissionDenied, match="This needs standard permission on project"):
        send_claim_email(claim, reader, draft())
    assert db.session.scalar(sa.select(sa.func.count(Communication.id))) == 0


def test_claimpost_sweep_re_enqueues_what_the_broker_lost(
    app, claim, sender, broker, request, smtp_server
):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    broker.flush_all()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["sweep"]).output == "Re-enqueued 0 email(s).\n"  # still fresh
    request.getfixturevalue("worker")
    result = runner.invoke(args=["sweep", "--older-than", "0"])
    assert result.exit_code == 0 and result.output == f"Re-enqueued 1 email(s): {email.id}\n"
    wait_for(lambda: reaches(email.id, "sent"), what="the swept email to be sent")
    assert len(smtp_server.received) == 1


def test_each_worker_runs_the_reconciler_periodically(
    app, claim, sender, broker, mail_config, smtp_server, request
):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    broker.flush_all()
    mail_config.update(SWEEP_INTERVAL_SECONDS=0.1, RECONCILE_AFTER_SECONDS=0)
    request.getfixturevalue("worker")
    periodic = PeriodicSweep(app)
    periodic.after_worker_boot(broker, None)
    try:
        wait_for(lambda: reaches(email.id, "sent"), what="the periodic sweep to send it")
    finally:
        periodic.before_worker_shutdown(broker, None)


def test_a_greylisted_recipient_gets_the_email_on_a_later_attempt_and_no_one_gets_two(
    claim, sender, worker, smtp_server
):
    greylisted = {"quentin@qs.example": 1}

    class Greylist(type(smtp_server.handler)):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if greylisted.get(address, 0) > 0:
                greylisted[address] -= 1
                return "451 4.7.1 Greylisted, try again later"
            return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    smtp_server.handler.__class__ = Greylist
    email = send_claim_email(claim, sender, draft(uploads=[]))
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent to everyone")
    assert [sorted(r.rcpt_tos) for r in smtp_server.received] == [
        ["olivia@owner.example", "priya.pm@harbourside.example"],
        ["quentin@qs.example"],
    ]
    db.session.expire_all()
    assert {r.status for r in db.session.get(Communication, email.id).recipients} == {"accepted"}


def test_an_email_whose_rendering_breaks_fails_with_the_error_instead_of_looping(
    app, claim, sender, worker, smtp_server, monkeypatch
):
    broken = app.jinja_env.from_string("{{ claim.no_such_figure() }}")
    with monkeypatch.context() as patch:  # as after a deploy with a broken template
        patch.setattr("workers.render._inlined_html_template", lambda: broken)
        email = send_claim_email(claim, sender, draft(uploads=[]))
        wait_for(lambda: reaches(email.id, "failed"), what="the email to fail")
    db.session.expire_all()
    failed = db.session.get(Communication, email.id)
    assert failed.last_error.startswith("rendering failed: UndefinedError")
    assert [event.state for event in failed.events] == ["queued", "failed"]
    assert smtp_server.received == []

    retry_email(failed, sender.name)  # the template fixed, an operator's Retry sends it
    wait_for(lambda: reaches(email.id, "sent"), what="the retried email to be sent")
    assert len(smtp_server.received) == 1


def test_a_fault_that_is_not_the_servers_fails_the_email_instead_of_looping(
    app, claim, sender, broker, smtp_server, request
):
    email = send_claim_email(claim, sender, draft())  # queued on the broker; no worker yet
    stored = db.session.get(Communication, email.id).attachments[0].sha256
    path = FileStore(app.config["STORAGE_DIR"]).path(stored)
    content = path.read_bytes()
    path.unlink()  # e.g. a worker whose STORAGE_DIR lacks the file
    request.getfixturevalue("worker")  # starts only now: it cannot have sent it already
    try:
        wait_for(lambda: reaches(email.id, "failed"), what="the email to fail")
    finally:
        path.write_bytes(content)
    db.session.expire_all()
    failed = db.session.get(Communication, email.id)
    assert failed.attempts == 1 and "FileNotFoundError" in failed.last_error
    assert smtp_server.received == []


def test_a_retry_to_a_deferred_recipient_sends_the_very_bytes_of_the_first_attempt(
    app, claim, sender, worker, smtp_server
):
    greylisted = {"quentin@qs.example": 1}
    stored_before_data = []

    class Greylist(type(smtp_server.handler)):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if greylisted.get(address, 0) > 0:
                greylisted[address] -= 1
                return "451 4.7.1 Greylisted, try again later"
            return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

        async def handle_DATA(self, server, session, envelope):
            with app.app_context():  # what the database says while the server has the bytes
                stored_before_data.append(db.session.scalar(sa.select(Communication.raw_sha256)))
                db.session.remove()
            return await super().handle_DATA(server, session, envelope)

    smtp_server.handler.__class__ = Greylist
    smtp_server.handler.accept_reply = "250 2.0.0 Ok: queued as 4Fx1"
    email = send_claim_email(claim, sender, draft())
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent to everyone")

    first, retry = smtp_server.received
    assert retry.rcpt_tos == ["quentin@qs.example"]
    assert retry.raw == first.raw  # same Date, Message-ID, MIME boundaries, attachment
    assert retry.message["Date"] == first.message["Date"]
    assert retry.message["Message-ID"].strip() == email.message_id
    db.session.expire_all()
    sent = db.session.get(Communication, email.id)
    assert sent.raw_sha256 == hashlib.sha256(first.raw).hexdigest()
    assert stored_before_data == [sent.raw_sha256] * 2  # committed before the server saw it
    assert FileStore(app.config["STORAGE_DIR"]).read(sent.raw_sha256) == first.raw
    recipients = {r.email: r for r in sent.recipients}
    olivia, quentin = recipients["olivia@owner.example"], recipients["quentin@qs.example"]
    for person in (olivia, quentin):
        assert person.status == "accepted"
        assert person.smtp_reply == "250 2.0.0 Ok: queued as 4Fx1"
        assert person.queue_id == "4Fx1"
    assert olivia.accepted_at < quentin.accepted_at


def test_the_email_resource_names_the_bytes_as_sent(claim, sender, worker, smtp_server, api):
    client = api(sender)
    email = send_claim_email(claim, sender, draft(uploads=[]))
    wait_for(lambda: reaches(email.id, "sent"), what="the email to be sent")
    [received] = smtp_server.received
    resource = client.get(f"/api/v1/emails/{email.id}").get_json()
    assert resource["raw_sha256"] == hashlib.sha256(received.raw).hexdigest()


def test_an_email_is_rendered_and_sent_reading_its_recipients_and_claim_once(
    claim, sender, smtp_server, broker, mail_config
):
    """The worker loads an email with its claim's graph, the client it is addressed to and
    its recipients once: the commit that moves it to sending keeps them (no other attempt can
    change them under the compare-and-set), and the columns it wrote as values (the stored
    message's hash), so the attempt reads none of them again; with no cancel request, the
    move to sent is one statement."""
    email = send_claim_email(claim, sender, draft(uploads=[]))
    broker.flush_all()  # run here, in this thread, instead of by a worker
    db.session.remove()
    with recorded() as recorded_statements:
        render_email.fn(email.id)
    assert reaches(email.id, "sent") and len(smtp_server.received) == 1
    statements = [" ".join(statement.split()) for statement, _ in recorded_statements]

    def reads(table: str) -> int:
        return sum(1 for s in statements if s.startswith("SELECT") and f" FROM {table} " in s)

    assert reads("recipient") == 1 and reads("attachment") == 1
    assert reads("progress_claim") == 1  # the contract's claims, with the lines of each
    assert reads("communication") == 1  # the email, loaded with its graph, and only then
    assert reads("contact") == 0  # the PDF's client, joined in that first query
    moves = [s for s in statements if s.startswith("UPDATE communication")]
    assert len(moves) == 3  # to rendered, to sending, to sent
