"""Storage that cannot be written while mail arrives: the listener answers 451 (never 250) and
the webhook 503, nothing is acknowledged or half-stored, and the sender's retry is taken."""

import smtplib
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import InboundMessage, InboundStatus
from tests.test_inbound import SECRET, reply_address, reply_to, signed, smtp_send, wait_for_replies
from web.extensions import db


@contextmanager
def unwritable_storage(app, tmp_path: Path):
    """STORAGE_DIR where nothing can be created: its parent is a regular file, so every mkdir
    and open fails in the kernel (ENOTDIR), for root too (a read-only mode would not stop
    root, which runs CI here)."""
    saved = app.config["STORAGE_DIR"]
    occupied = tmp_path / "not-a-directory"
    occupied.write_bytes(b"")
    app.config["STORAGE_DIR"] = str(occupied / "files")
    try:
        yield
    finally:
        app.config["STORAGE_DIR"] = saved


@pytest.fixture
def webhook(app):
    app.config["INBOUND_WEBHOOK_SECRET"] = SECRET
    yield app.test_client()
    app.config["INBOUND_WEBHOOK_SECRET"] = None


def received_messages() -> list[InboundMessage]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(InboundMessage).where(InboundMessage.status != InboundStatus.REFUSED)
    ).all()


def test_the_listener_answers_451_while_storage_is_unwritable_and_takes_the_retry(
    app, sent, listener, tmp_path
):
    raw = reply_to(sent, "Approved")
    with unwritable_storage(app, tmp_path):
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp_send(listener, raw, reply_address(sent))
        assert refused.value.smtp_code == 451
        assert received_messages() == []  # nothing acknowledged, nothing half-stored
    assert smtp_send(listener, raw, reply_address(sent)) == {}  # the sender's server retries
    [reply] = wait_for_replies(sent.id)
    assert reply.decision == "approved"
    assert len(received_messages()) == 1


def test_the_webhook_answers_503_while_storage_is_unwritable_and_takes_the_retry(
    app, webhook, sent, tmp_path
):
    body = reply_to(sent, "Approved")
    headers = signed(body)
    with unwritable_storage(app, tmp_path):
        response = webhook.post("/inbound/mime", data=body, headers=headers)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
        assert received_messages() == []
    # The provider sends the same request again: it is no replay, and it is stored.
    assert webhook.post("/inbound/mime", data=body, headers=headers).status_code == 202
    [reply] = wait_for_replies(sent.id)
    assert reply.decision == "approved"
