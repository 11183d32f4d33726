"""Cancel of an email being sent: a request that wins when the attempt ends, unless the mail
server took the email in that attempt; never a second send. Against a real SMTP server that
holds the message's DATA until the test lets it answer."""

import asyncio
import threading

import pytest

from models import Communication
from models.communication import CancelOutcome, cancel, move, retry
from tests import test_pipeline
from tests.conftest import csrf_token_from, wait_for
from tests.test_emails_web import ADMIN, DEMO_PASSWORD
from tests.test_pipeline import draft, reaches
from web.emails import send_claim_email
from web.extensions import db
from workers.actors import send_email

claim, sender = test_pipeline.claim, test_pipeline.sender  # the pipeline tests' fixtures
HOLD_SECONDS = 20  # the server answers by then at the latest, whatever the test does


@pytest.fixture
def held(smtp_server):
    """The test's SMTP server, holding each DATA until `answer` is set; `in_data` tells that
    an attempt is under way."""
    in_data, answer = threading.Event(), threading.Event()
    base = type(smtp_server.handler)

    class Holding(base):
        async def handle_DATA(self, server, session, envelope):
            in_data.set()
            await asyncio.get_running_loop().run_in_executor(None, answer.wait, HOLD_SECONDS)
            return await super().handle_DATA(server, session, envelope)

    smtp_server.handler.__class__ = Holding
    yield smtp_server, in_data, answer
    answer.set()


def cancel_from_the_email_page(login, email: Communication) -> str:
    """An operator's Cancel button on the email's page while it is being sent; returns the
    page as it was before (with the button's confirmation) and after."""
    admin = login(ADMIN, DEMO_PASSWORD)
    url = f"/admin/claims/{email.claim_id}/emails/{email.id}"
    page = admin.get(url).get_data(as_text=True)
    response = admin.post(
        f"/admin/outbox/cancel/{email.id}", data={"csrf_token": csrf_token_from(page), "url": url}
    )
    assert response.status_code == 302 and response.location.endswith(url)
    after = admin.get(url).get_data(as_text=True)
    live = admin.get(url + "/live", query_string={"since": ""}).get_json()
    return page, after, live["parts"]["email-status"]


@pytest.mark.parametrize(
    "reply, ends",
    [("451 4.3.0 Try again later", "cancelled"), ("250 Message accepted", "sent")],
)
def test_a_cancel_during_an_attempt_wins_unless_the_server_took_it(
    claim, sender, worker, held, login, reply, ends
):
    smtp, in_data, answer = held
    if reply.startswith("4"):
        smtp.handler.data_replies = [reply]
    email = send_claim_email(claim, sender, draft(uploads=[], bcc=[]))
    assert in_data.wait(HOLD_SECONDS) and reaches(email.id, "sending")

    before, after, live = cancel_from_the_email_page(login, email)
    assert (
        "An attempt is in progress; if the mail server takes it now it is sent, otherwise it "
        "will not be retried."
    ) in before
    assert "Cancel requested for" in after
    assert "sending, cancel requested" in after and "sending, cancel requested" in live
    assert 'action="/admin/outbox/cancel/' not in live  # asked once
    db.session.expire_all()
    assert db.session.get(Communication, email.id).cancel_requested_at is not None

    answer.set()
    wait_for(lambda: reaches(email.id, ends), what=f"the email to end {ends}")
    send_email.fn(email.id)  # a redelivered or retried send of it does nothing
    assert smtp.handler.data_attempts == 1
    db.session.expire_all()
    done = db.session.get(Communication, email.id)
    assert done.retry_at is None
    assert [e.state for e in done.events][-3:] == ["sending", "sending", ends]
    if ends == "cancelled":
        assert smtp.received == [] and "451 4.3.0" in done.last_error
        assert {r.status for r in done.recipients} == {"pending"}
    else:
        assert len(smtp.received) == 1 and done.events[-1].note.startswith("the mail server took")
        assert {r.status for r in done.recipients} == {"accepted"}


def test_cancel_cancels_at_once_what_is_not_being_sent_and_asks_once_for_what_is(
    claim, sender, broker
):
    waiting = send_claim_email(claim, sender, draft(uploads=[], bcc=[]))
    assert cancel(db.session, waiting.id, "Alex Admin") == CancelOutcome.CANCELLED
    assert cancel(db.session, waiting.id, "Alex Admin") is None  # cancelled already
    db.session.commit()

    sending = send_claim_email(claim, sender, draft(uploads=[], bcc=[]))
    assert move(db.session, sending.id, {"queued"}, "sending")
    assert cancel(db.session, sending.id, "Alex Admin") == CancelOutcome.REQUESTED
    assert cancel(db.session, sending.id, "Alex Admin") is None  # requested already
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Communication, sending.id).state == "sending"


def test_each_cancel_button_says_what_it_will_do_in_the_emails_state(claim, sender, broker, login):
    states = {}
    for state in ("queued", "rendered", "failed", "sending"):
        email = send_claim_email(claim, sender, draft(uploads=[], bcc=[], subject=state))
        if state != "queued":
            assert move(db.session, email.id, {"queued"}, state)
        states[state] = email.id
    db.session.commit()
    page = login(ADMIN, DEMO_PASSWORD).get("/admin/outbox/").get_data(as_text=True)
    nothing_yet = "so nothing has gone out yet."
    for state, words in {
        "queued": f"It is queued, {nothing_yet}",
        "rendered": f"It is ready to go out, {nothing_yet}",
        "failed": "It failed and will not be tried again.",
        "sending": (
            "An attempt is in progress; if the mail server takes it now it is sent, otherwise "
            "it will not be retried."
        ),
    }.items():
        assert f"Cancel “{state}”: this email will not be sent. {words}" in page
        assert f'action="/admin/outbox/cancel/{states[state]}"' in page
    bulk = "Cancel the selected emails? Those queued, ready, waiting for their next try or failed"
    assert bulk in page


def test_a_retry_answers_a_cancel_request_that_came_as_the_email_failed(claim, sender, broker):
    email = send_claim_email(claim, sender, draft(uploads=[], bcc=[]))
    assert move(db.session, email.id, {"queued"}, "sending")
    assert cancel(db.session, email.id, "Alex Admin") == CancelOutcome.REQUESTED
    assert move(db.session, email.id, {"sending"}, "failed")  # the attempts ran out meanwhile
    assert retry(db.session, email.id, "Alex Admin")
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Communication, email.id)
    assert again.state == "queued" and again.cancel_requested_at is None  # it will be sent
