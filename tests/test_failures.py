"""Failures in words: what the worker records of each kind of trouble (against real SMTP
servers), what each viewer reads of it, recipients marked rejected only by their server, the
missing attachment's page, and Retry from the claim page."""

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from flask_migrate import stamp, upgrade

from models import Communication, User
from models.compose import Upload
from models.failures import SENTENCES, Failure, FailureKind, failure_sentence
from models.storage import FileStore
from models.terminology import DICTIONARIES, terms_for
from tests import test_pipeline
from tests.conftest import csrf_token_from, wait_for
from tests.mail import ScriptedHandler, SmtpServer, free_port
from tests.test_emails_web import ADMIN, DEMO_PASSWORD, PM
from tests.test_pipeline import draft, reaches
from web.emails import send_claim_email
from web.extensions import db
from workers.errors import DeliveryError
from workers.failures import delivery_failure
from workers.smtp import close_connection, deliver, parse_smtp_url

claim, sender = test_pipeline.claim, test_pipeline.sender  # the pipeline tests' fixtures
STAT_DEC = Upload("Stat-Dec.pdf", "application/pdf", b"%PDF-1.4\n% a statutory declaration\n")


# --- the table: one sentence per kind, in each dictionary ---------------------------------


@pytest.mark.parametrize("kind", list(FailureKind))
def test_every_kind_reads_as_a_sentence_with_what_to_do(kind):
    facts = {"files": "Stat-Dec.pdf", "reply": "554 5.7.1 Relay access denied", "server": "mx"}
    facts |= {"recipients": "olivia@owner.example"}
    for terms in DICTIONARIES.values():
        sentence = failure_sentence(Failure(kind, facts), terms)
        assert sentence.endswith(".") and "{" not in sentence and "Error" not in sentence
    assert set(SENTENCES) == set(FailureKind)


def test_our_own_error_names_the_claim_in_the_companys_words():
    internal = Failure(FailureKind.INTERNAL)
    assert failure_sentence(internal, terms_for("en-AU")) == (
        "ClaimPost could not build this Progress Claim email; an operator has the details."
    )
    assert "this Owner Invoice email" in failure_sentence(internal, terms_for("en-US"))
    assert "this Payment Application email" in failure_sentence(internal, terms_for("en-GB"))


def test_a_retried_failure_says_the_attempt_and_the_next_try_and_when_it_gave_up():
    down = Failure(FailureKind.UNREACHABLE, {"server": "smtp.acme.example"})
    terms = terms_for("en-AU")
    waiting = failure_sentence(down, terms, state="rendered", attempts=2, next_try="14:05")
    assert waiting == (
        "The mail server smtp.acme.example could not be reached. ClaimPost tries again at "
        "14:05 (attempt 2 so far); nothing to do."
    )
    gave_up = failure_sentence(down, terms, state="failed", attempts=8)
    assert gave_up.endswith("ClaimPost gave up after 8 attempt(s); once that is fixed, Retry.")
    missing = Failure(FailureKind.ATTACHMENT_MISSING, {"files": "Stat-Dec.pdf"})
    assert failure_sentence(missing, terms, state="failed", attempts=1) == (
        "The attachment Stat-Dec.pdf is missing from storage; attach it again and Retry."
    )


# --- what the worker records of each kind of trouble, against real servers -----------------


@pytest.fixture
def attempt():
    """One delivery to `url` as the worker makes it; returns the failure it records."""

    def run(url: str) -> Failure:
        try:
            deliver(parse_smtp_url(url), "claims@replies.localhost", ["olivia@owner.example"], b"")
        except DeliveryError as exc:
            return delivery_failure(exc, parse_smtp_url(url).host)
        raise AssertionError("the delivery went through")

    yield run
    close_connection()


@pytest.fixture
def scripted():
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


def test_a_refusal_quotes_the_servers_reply(attempt, scripted):
    scripted.handler.rcpt_reply = "554 5.7.1 Relay access denied"
    assert attempt(scripted.url) == Failure(
        FailureKind.SERVER_REFUSED,
        {"reply": "554 5.7.1 Relay access denied", "server": "127.0.0.1"},
    )


def test_a_message_too_large_says_so_in_the_servers_words(attempt, scripted):
    scripted.handler.data_replies = ["552 5.3.4 Message size exceeds fixed limit"]
    failure = attempt(scripted.url)
    assert failure.kind == FailureKind.TOO_LARGE
    assert failure.facts["reply"] == "552 5.3.4 Message size exceeds fixed limit"


def test_a_server_not_listening_is_unreachable(attempt):
    closed = free_port()
    assert attempt(f"smtp://127.0.0.1:{closed}").kind == FailureKind.UNREACHABLE


def test_a_server_that_never_greets_times_out(attempt):
    with socket.socket() as silent:  # takes the connection (the backlog) and says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        assert attempt(f"smtp://127.0.0.1:{port}?timeout=0.5").kind == FailureKind.TIMEOUT


def test_starttls_required_but_not_offered_is_a_tls_failure(attempt, scripted):
    assert attempt(scripted.url + "?starttls=1").kind == FailureKind.TLS_FAILED


def test_a_wrong_password_is_an_authentication_failure(attempt):
    def refuse(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False)

    port = free_port()
    controller = Controller(
        ScriptedHandler(),
        hostname="127.0.0.1",
        port=port,
        authenticator=refuse,
        auth_require_tls=False,
    )
    controller.start()
    try:
        failure = attempt(f"smtp://claims:wrong@127.0.0.1:{port}")
    finally:
        controller.stop()
    assert failure == Failure(FailureKind.AUTH_FAILED, {"server": "127.0.0.1"})


# --- through the pipeline: a missing attachment, as each viewer sees it ---------------------


@pytest.fixture
def users_by_email(demo) -> dict[str, User]:
    return {u.email: u for u in db.session.scalars(sa.select(User))}


def storage_path(app, sha256: str) -> Path:
    return FileStore(app.config["STORAGE_DIR"]).path(sha256)


@pytest.fixture
def missing_attachment(app, claim, sender, broker, request):
    """An email whose uploaded attachment left storage before its first attempt (restored
    afterwards); it is failed by a real worker."""
    email = send_claim_email(claim, sender, draft(uploads=[STAT_DEC], bcc=[]))
    path = storage_path(app, email.attachments[0].sha256)
    content = path.read_bytes()
    path.unlink()
    request.getfixturevalue("worker")
    wait_for(lambda: reaches(email.id, "failed"), what="the email to fail")
    yield email.id, path, content
    path.write_bytes(content)


def test_a_missing_attachment_fails_in_words_and_marks_no_recipient_rejected(
    app, missing_attachment, login
):
    email_id, path, _ = missing_attachment
    db.session.expire_all()
    email = db.session.get(Communication, email_id)
    assert email.failure_kind == FailureKind.ATTACHMENT_MISSING
    # No mail server refused anyone: the fault is ours.
    assert {r.status for r in email.recipients} == {"pending"}
    words = "The attachment Stat-Dec.pdf is missing from storage; attach it again and Retry."

    pm = login(PM, DEMO_PASSWORD)  # a project manager: the words only
    for url in (
        f"/admin/claims/details/?id={email.claim_id}&tab=emails",
        f"/admin/claims/{email.claim_id}/emails/{email_id}",
    ):
        page = pm.get(url).get_data(as_text=True)
        assert words in page
        for technical in ("FileNotFoundError", str(path.parent), "Details</summary>", "rejected"):
            assert technical not in page, (url, technical)
        assert f'action="/admin/outbox/retry/{email_id}"' not in page  # not theirs to retry
    admin = login(ADMIN, DEMO_PASSWORD)  # an operator: the words, and the detail behind them
    page = admin.get(f"/admin/claims/{email.claim_id}/emails/{email_id}").get_data(as_text=True)
    assert words in page
    details = page.split("<summary>Details</summary>", 1)[1].split("</details>", 1)[0]
    assert "FileNotFoundError" in details


def test_the_api_gives_the_words_to_all_and_the_detail_to_operators(
    missing_attachment, api, users_by_email
):
    email_id = missing_attachment[0]
    seen = {}
    for who in (PM, ADMIN):
        response = api(users_by_email[who]).get(f"/api/v1/emails/{email_id}")
        seen[who] = response.get_json()
    pm, admin = seen[PM], seen[ADMIN]
    assert (
        pm["last_error"]
        == admin["last_error"]
        == ("The attachment Stat-Dec.pdf is missing from storage; attach it again and Retry.")
    )
    assert pm["last_error_kind"] == "attachment_missing"
    assert pm["last_error_detail"] is None and "FileNotFoundError" in admin["last_error_detail"]
    assert "FileNotFoundError" not in str(pm) and "FileNotFoundError" in admin["events"][-1]["note"]
    assert {r["status"] for r in pm["recipients"]} == {"pending"}


def test_downloading_the_missing_attachment_says_what_to_do(missing_attachment, login):
    email_id = missing_attachment[0]
    email = db.session.get(Communication, email_id)
    pm = login(PM, DEMO_PASSWORD)
    response = pm.get(f"/admin/claims/{email.claim_id}/files/sent/{email.attachments[0].id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "The file Stat-Dec.pdf is missing from storage" in page
    assert "attach it again to a new email" in page
    assert f'href="/admin/claims/{email.claim_id}/emails/{email_id}"' in page  # a way back


def test_retry_from_the_claim_page_sends_it_once_the_file_is_back(
    missing_attachment, login, smtp_server
):
    email_id, path, content = missing_attachment
    email = db.session.get(Communication, email_id)
    admin = login(ADMIN, DEMO_PASSWORD)
    tab = f"/admin/claims/details/?id={email.claim_id}&tab=emails"
    page = admin.get(tab).get_data(as_text=True)
    form = page.split(f'action="/admin/outbox/retry/{email_id}"', 1)[1].split("</form>", 1)[0]
    assert "Send “" in page and f'name="url" value="{tab.replace("&", "&amp;")}"' in form

    path.write_bytes(content)  # attaching it again stores the same bytes at the same place
    response = admin.post(
        f"/admin/outbox/retry/{email_id}", data={"csrf_token": csrf_token_from(page), "url": tab}
    )
    assert response.status_code == 302 and response.location.endswith(tab)  # back to the tab
    wait_for(lambda: reaches(email_id, "sent"), what="the retried email to be sent")
    assert len(smtp_server.received) == 1
    db.session.expire_all()
    sent = db.session.get(Communication, email_id)
    assert sent.failure_kind is None and {r.status for r in sent.recipients} == {"accepted"}


def test_a_server_out_of_reach_says_the_attempt_and_the_next_try(
    claim,
    sender,
    broker,
    mail_config,
    request,
    login,
):
    mail_config.update(SMTP_URL=f"smtp://127.0.0.1:{free_port()}", SEND_MIN_BACKOFF_MS=600_000)
    email = send_claim_email(claim, sender, draft(uploads=[], bcc=[]))
    request.getfixturevalue("worker")
    wait_for(lambda: reaches(email.id, "rendered") and state_attempts(email.id), what="a try")
    page = (
        login(PM, DEMO_PASSWORD)
        .get(f"/admin/claims/details/?id={email.claim_id}&tab=emails")
        .get_data(as_text=True)
    )
    assert "The mail server 127.0.0.1 could not be reached. ClaimPost tries again at " in page
    assert "(attempt 1 so far); nothing to do." in page and "ConnectionRefused" not in page
    db.session.expire_all()
    assert {r.status for r in db.session.get(Communication, email.id).recipients} == {"pending"}


def state_attempts(email_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Communication, email_id).attempts


def test_recipients_marked_rejected_for_a_fault_of_ours_are_no_longer(app, claim, sender, broker):
    email = send_claim_email(claim, sender, draft(uploads=[]))
    with app.app_context():
        stamp(revision="0015")  # only the data migration after it runs again
        try:
            with db.engine.begin() as conn:  # as the failure of an earlier version left them
                for address, detail, reply in (
                    ("olivia@owner.example", "FileNotFoundError: [Errno 2] /x/4d/4d…", None),
                    ("priya.pm@harbourside.example", "550 5.1.1 No such user", None),
                    ("quentin@qs.example", "550 5.1.1 No such user", "550 5.1.1 No such user"),
                ):
                    conn.execute(
                        sa.text(
                            "UPDATE recipient SET status = 'rejected', detail = :detail, "
                            "smtp_reply = :reply WHERE email = :address"
                        ),
                        {"detail": detail, "reply": reply, "address": address},
                    )
        finally:
            upgrade(revision="0016")
            stamp(revision="head")  # the later migrations ran already
    db.session.expire_all()
    recipients = db.session.get(Communication, email.id).recipients
    statuses = {r.email: (r.status, r.detail) for r in recipients}
    assert statuses == {
        "olivia@owner.example": ("pending", ""),
        "priya.pm@harbourside.example": ("rejected", "550 5.1.1 No such user"),
        "quentin@qs.example": ("rejected", "550 5.1.1 No such user"),
    }
