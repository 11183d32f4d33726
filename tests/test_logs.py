"""Logs: one JSON line per event, carrying email id, Message-ID, state and request id, and never
a password, a reply token, an API token or a message body (a full login + send + reply)."""

import io
import json
import logging

import pytest
import sqlalchemy as sa

from models import Communication, ProgressClaim, Reply, User
from models.communication import EmailState, move
from models.compose import Draft
from tests.conftest import PASSWORD, csrf_token_from, wait_for
from tests.test_emails_web import DEMO_PASSWORD, PM, contact_id
from tests.test_inbound import reply_by
from web.emails import send_claim_email
from web.extensions import db
from web.logs import JsonFormatter, TextFormatter, redact

BODY = "Confidential: our margin on item 7 is 4.7%."
REPLY = "Rejected: item 7 over-claimed, and our budget note 0815 says why."


@pytest.fixture
def log_lines():
    """Every log record of the process while the test runs, as the JSON formatter writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    saved_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: stream.getvalue().splitlines()
    root.removeHandler(handler)
    root.setLevel(saved_level)


def test_a_send_and_a_reply_log_their_events_and_no_secret(
    log_lines, login, make_user, demo, worker, smtp_server, listener, api
):
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    client = login(PM, DEMO_PASSWORD)
    # A wrong password is refused and not written down either.
    stranger = client.application.test_client()
    token = csrf_token_from(stranger.get("/login").get_data(as_text=True))
    stranger.post("/login", data={"email": PM, "password": "hunter2-wrong", "csrf_token": token})

    url = f"/admin/claims/{claim_id}/compose"
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={
            "csrf_token": token,
            "to": contact_id("olivia@owner.example"),
            "subject": "Progress Claim #3",
            "message": BODY,
        },
        headers={"X-Request-ID": "compose-req-1"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and response.headers["X-Request-ID"] == "compose-req-1"
    email = db.session.scalar(sa.select(Communication))

    def state_is(state):
        db.session.expire_all()
        return db.session.get(Communication, email.id).state == state

    wait_for(lambda: state_is("sent"), what="the email to be sent")
    reply_by(listener, email, "Olivia Owner <olivia@owner.example>", REPLY)
    wait_for(lambda: db.session.scalar(sa.select(Reply.id)), what="the reply to be recorded")
    wait_for(lambda: state_is("replied"), what="the email to be replied")
    reader = make_user("auditor@harbourside.example", admin=True)
    bearer = api(reader)
    assert bearer.get(f"/api/v1/emails/{email.id}").status_code == 200
    secret_token = bearer.environ_base["HTTP_AUTHORIZATION"].split()[1]

    lines = log_lines()
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    text = "\n".join(lines)
    for secret in (
        PASSWORD,
        DEMO_PASSWORD,
        "hunter2-wrong",
        email.reply_token,
        email.reply_token.upper(),
        email.client_key,
        secret_token,
        BODY,
        "margin on item 7",
        "budget note 0815",
    ):
        assert secret not in text, f"{secret!r} is in the logs"

    mine = [e for e in events if e.get("event") == "email.state" and e["email_id"] == email.id]
    assert [e["state"] for e in mine] == ["rendered", "sending", "sent", "replied"]
    # The Message-ID is there with its token masked: its random tail still finds it.
    tail = email.message_id.split(".", 1)[1]
    assert all(e["message_id"] == f"<….{tail}" for e in mine)
    # The worker's steps carry the request id of the Send that queued them.
    assert {e["request_id"] for e in mine[:3]} == {"compose-req-1"}
    requests = [e for e in events if e.get("event") == "http.request"]
    assert any(
        e["path"] == url and e["status"] == 302 and e["request_id"] == "compose-req-1"
        for e in requests
    )
    inbound = [e for e in events if e.get("event") == "inbound.status"]
    assert [e["state"] for e in inbound][-1] == "matched"


def test_text_lines_carry_the_request_id_and_mask_secrets_too():
    record = logging.LogRecord(
        "claimpost", logging.WARNING, __file__, 1, "refused %s", ("x",), None
    )
    record.msg = redact("refused claims+1abcdefghijklmnopqrstuvwxyz234567@replies.example")
    record.args = None
    record.email_id = 7
    line = TextFormatter().format(record)
    assert line.endswith("WARNING claimpost [-] refused claims+…@replies.example email_id=7")


@pytest.mark.parametrize(
    "text, masked",
    [
        ("GET /client/IjVx.aZ-9_1 200", "GET /client/… 200"),
        ("Authorization: Bearer abc.DEF-123", "Authorization: Bearer …"),
        ("password=s3cret&x=1", "password=…&x=1"),
        ('{"password": "s3cret"}', '{"password": "…"}'),
        ("code=123456", "code=…"),
        ("<1abcdefghijklmnopqrstuvwxyz234567.0a1b2c3d@mail>", "<….0a1b2c3d@mail>"),
        # a SHA-256 is not a token
        ("a" * 64, "a" * 64),
    ],
)
def test_redact_masks_each_kind_of_secret(text, masked):
    assert redact(text) == masked


def test_a_state_is_logged_once_committed_and_never_when_rolled_back(demo, broker, log_lines):
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    claim = db.session.get(ProgressClaim, claim_id)
    sender = db.session.scalar(sa.select(User).where(User.email == PM))
    email = send_claim_email(claim, sender, Draft(to=["olivia@owner.example"], message="m"))

    def logged() -> list[str]:
        events = [json.loads(line) for line in log_lines()]
        return [
            e["state"]
            for e in events
            if e.get("event") == "email.state" and e["email_id"] == email.id
        ]

    assert move(db.session, email.id, {EmailState.QUEUED}, EmailState.CANCELLED, note="x")
    db.session.rollback()  # as when another worker won, or the attempt failed after it
    assert logged() == []
    assert move(db.session, email.id, {EmailState.QUEUED}, EmailState.CANCELLED, note="x")
    assert logged() == []  # not yet: the move is not committed
    db.session.commit()
    assert logged() == ["cancelled"]
