"""Fuzzing the inbound path through its real entry points: the SMTP listener's DATA handler
stores the message and answers 250, and the worker's actor processes it to an end state
(matched, unmatched, auto-reply, bounce), or `failed` with the error said. Nothing raises."""

import asyncio
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import Envelope
from hypothesis import given
from hypothesis import strategies as st

from models import InboundMessage
from tests.fuzz.scale import counted, fuzz_settings
from tests.fuzz.strategies import OUR_ID, TOKEN, raw_mail
from web.extensions import db
from workers.actors import process_inbound
from workers.inbound_smtp import ReplyHandler

END_STATES = {"matched", "unmatched", "auto_reply", "bounce", "failed"}


def _addressed_to(raw: bytes, email) -> bytes:
    """The fuzzed message, its token and Message-ID those of the email this test sent."""
    return raw.replace(TOKEN.encode(), email.reply_token.encode()).replace(
        OUR_ID.encode(), email.message_id.encode()
    )


def receive(handler: ReplyHandler, raw: bytes, rcpts: list[str]) -> str:
    """DATA through the listener's handler, then the worker's processing of what it stored
    (with no envelope recipient, as `ingest` and the webhook take mail in, only the headers
    can match it)."""
    envelope = Envelope()
    envelope.mail_from, envelope.rcpt_tos = "olivia@owner.example", rcpts
    envelope.content = envelope.original_content = raw
    # On a thread of its own, as in the listener: this thread may already run an event loop
    # (Playwright's, when the browser tests ran first in this process).
    with ThreadPoolExecutor(1) as listener_thread:
        answer = listener_thread.submit(asyncio.run, handler.handle_DATA(None, None, envelope))
        answer = answer.result()
    newest = db.session.scalar(sa.select(InboundMessage).order_by(InboundMessage.id.desc()))
    if newest is not None and newest.status == "stored":
        process_inbound.fn(newest.id)
    db.session.expire_all()
    stored = db.session.get(InboundMessage, newest.id)
    assert answer == "250 2.0.0 Stored"
    assert stored.status in END_STATES, stored.status
    assert stored.status != "failed", stored.error  # the reader never raises: nothing fails
    return stored.status


# The `sent` fixture's Dramatiq worker threads touch the global `random` while Hypothesis
# draws (retry jitter); nothing of theirs reaches these inputs.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_any_message_through_the_listener_and_worker_ends_processed(app, sent, monkeypatch):
    monkeypatch.setattr(process_inbound, "send", lambda *a, **k: None)  # processed right here
    handler = ReplyHandler(app)
    rcpt = f"claims+{sent.reply_token}@replies.localhost"
    outcomes = Counter()

    @fuzz_settings(short=40, full=1_500)
    @given(raw_mail, st.sampled_from([[rcpt], []]))
    def take_any(raw, rcpts):
        raw = _addressed_to(raw, sent)
        outcomes[counted("listener+worker", receive, handler, raw, rcpts)] += 1

    take_any()
    assert outcomes["matched"] and outcomes["unmatched"]  # the inputs reach both ends
