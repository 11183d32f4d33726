"""Reminders until answered (issue 11): by default 3 business days before each deadline and on
the day, in the claim email's thread, through the pipeline; never after an answer, never
twice for one deadline and day, even when two passes run at once.

The demo's claim 3 (AU-NSW) is served here on Fri 18 Dec 2026 at 10:00 in Sydney, so (see
tests/test_statutory_clock.py for the count) the payment schedule is due Mon 11 Jan 2027 and
payment Mon 18 Jan. Three business days before Mon 11 Jan is Wed 6 Jan (Fri 8, Thu 7, Wed 6);
before Mon 18 Jan, Wed 13 Jan. Reminders go out from 8 am Sydney time (AEDT, UTC+11).
"""

import re
import threading
from datetime import UTC, datetime, time
from email.utils import getaddresses
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import models.reminders
from models import ClaimDecision, Communication, Company, ProgressClaim, Reminder, Reply
from models.calendars import CALENDARS
from models.claim_decision import record_decision
from models.clock import clock_of
from models.reminders import parse_reminder_days, queue_reminders, reminders_due
from tests.conftest import csrf_token_from, wait_for
from tests.test_inbound import reply_by, wait_for_replies
from tests.test_statutory_clock import FRI_18_DEC_10AM, nsw_working_day, set_accepted_at
from web.extensions import db
from workers.actors import render_email
from workers.middleware import PeriodicReminders

WED_6_JAN_9AM = "2027-01-05T22:00:00Z"  # 09:00 AEDT on Wed 6 Jan 2027
SYDNEY = ZoneInfo("Australia/Sydney")


@pytest.fixture
def served(sent) -> Communication:
    """The claim email, served on Olivia on Fri 18 Dec 2026 at 10 am in Sydney."""
    set_accepted_at(sent.id, "olivia@owner.example", FRI_18_DEC_10AM)
    return sent


def run(app, as_of: str | None = None) -> str:
    result = app.test_cli_runner().invoke(
        args=["reminders"] + (["--as-of", as_of] if as_of else [])
    )
    assert result.exit_code == 0, result.output
    return result.output


def reminders() -> list[Communication]:
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Communication).where(Communication.kind == "reminder").order_by(Communication.id)
    ).all()


def subject(received) -> str:
    # Python's SMTP policy folds a long Subject before its first word; unfolded, a client
    # reads it without the leading space.
    return str(received.message["Subject"]).strip()


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_three_business_days_before_a_reminder_goes_out_in_the_thread(
    app, served, smtp_server, api
):
    output = run(app, WED_6_JAN_9AM)
    assert output.startswith("Queued 1 reminder(s) as of 2027-01-05T22:00:00+00:00:")
    assert "to olivia@owner.example" in output
    assert "payment_schedule due 2027-01-11 (3 before)" in output
    [reminder] = reminders()
    sent_reminder = wait_for(
        lambda: [m for m in smtp_server.received if subject(m).startswith("Reminder: ")],
        what="the reminder to be sent",
    )[0]
    message = sent_reminder.message
    original = served
    assert subject(sent_reminder) == f"Reminder: {original.subject}"
    assert message["In-Reply-To"] == original.message_id
    assert message["References"] == original.message_id
    # To the original's To recipients only (not its Cc, not its Bcc).
    assert sent_reminder.rcpt_tos == ["olivia@owner.example"]
    assert [a for _, a in getaddresses([message["To"]])] == ["olivia@owner.example"]
    assert message["Cc"] is None
    # The same link to the client's page as the claim email carried.
    html = message.get_body(preferencelist=("html",)).get_content()
    [original_link] = set(re.findall(r'href="([^"]*/client/[^"]+)"', original.html_body))
    assert f'href="{original_link}"' in html
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Payment schedule: by Mon 11 Jan 2027, in 3 business days" in text
    assert "s 14(4)(b)" in text
    assert not [p for p in message.iter_attachments()]  # short: the claim email has the PDF
    # Through the pipeline, and on the Emails tab (and its API list) as a reminder.
    wait_for(lambda: state_of(reminder.id) == "sent", what="the reminder's state")
    emails = api(original.sender).get(f"/api/v1/claims/{original.claim_id}/emails").get_json()
    assert [(e["kind"], e["state"]) for e in emails["emails"]] == [
        ("reminder", "sent"),
        ("claim", "sent"),
    ]


def state_of(email_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Communication, email_id).state


def test_a_pass_does_not_send_the_same_reminder_twice(app, served):
    run(app, WED_6_JAN_9AM)
    assert run(app, WED_6_JAN_9AM) == "Queued 0 reminder(s) as of 2027-01-05T22:00:00+00:00.\n"
    assert run(app, "2027-01-06T23:00:00Z").startswith("Queued 0")  # Thu 7: still the same one
    assert len(reminders()) == 1
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 1


@pytest.mark.parametrize(
    ("as_of", "why"),
    [
        ("2027-01-05T12:00:00Z", "Tue 5 Jan, 11 pm: before the day"),
        ("2027-01-05T20:59:00Z", "Wed 6 Jan, 7.59 am: before 8 am"),
        ("2026-12-18T23:00:00Z", "Sat 19 Dec: the day after service, long before"),
    ],
)
def test_no_reminder_before_its_day(app, served, as_of, why):
    assert run(app, as_of).startswith("Queued 0"), why


def test_on_the_day_and_for_the_payment_deadline_too(app, served):
    run(app, WED_6_JAN_9AM)
    on_the_day = run(app, "2027-01-10T22:30:00Z")  # Mon 11 Jan, 9.30 am
    assert "payment_schedule due 2027-01-11 (on the day)" in on_the_day
    before_payment = run(app, "2027-01-12T21:00:00Z")  # Wed 13 Jan, 8 am
    assert "payment_due due 2027-01-18 (3 before)" in before_payment
    [_, _, third] = reminders()
    assert "Payment schedule: by Mon 11 Jan 2027, passed" in third.message
    assert "Payment due: by Mon 18 Jan 2027, in 3 business days" in third.message


def test_a_pass_after_downtime_sends_only_the_latest_reminder(app, served):
    output = run(app, "2027-01-10T22:00:00Z")  # the workers were down from Wed to Mon 11 Jan
    assert "payment_schedule due 2027-01-11 (on the day)" in output
    assert "(3 before)" not in output and len(reminders()) == 1


def test_no_reminder_after_an_answer(app, served, listener):
    reply_by(listener, served, "Olivia Owner <olivia@owner.example>", "Approved, thanks.")
    wait_for_replies(served.id)
    assert db.session.scalar(sa.select(ClaimDecision.id)) is not None
    assert run(app, WED_6_JAN_9AM).startswith("Queued 0")
    assert reminders() == []


def test_a_reminder_queued_before_an_answer_is_cancelled_not_sent(app, served, smtp_server):
    """The answer arrives between the pass and the send: the pipeline cancels the reminder."""
    queued = queue_reminders(
        db.session, at(WED_6_JAN_9AM), app.config["SECRET_KEY"], app.config["MAIL_DOMAIN"]
    )  # queued, not enqueued: this test sends it itself
    [made] = queued
    approval = Reply(
        communication=served,
        from_address="olivia@owner.example",
        from_name="Olivia Owner",
        received_at=at("2027-01-05T23:00:00Z"),
        kind="reply",
        text="Approved",
        sender_verified=True,
        read_as="approved",
        decision="approved",
    )
    db.session.add(approval)
    db.session.flush()
    record_decision(db.session, approval)
    db.session.commit()
    count = len(smtp_server.received)
    render_email(made.email.id)  # the actor, run here
    assert state_of(made.email.id) == "cancelled"
    assert len(smtp_server.received) == count
    events = db.session.get(Communication, made.email.id).events
    assert events[-1].note == "the claim was answered before the reminder went out"


def test_the_company_chooses_the_days_or_none(app, served):
    company = db.session.scalar(sa.select(Company))
    company.reminder_days = "5"
    db.session.commit()
    # Five business days before Mon 11 Jan is Mon 4 Jan (Fri 8, Thu 7, Wed 6, Tue 5, Mon 4).
    assert run(app, "2027-01-02T22:00:00Z").startswith("Queued 0")  # Sun 3 Jan
    assert "(5 before)" in run(app, "2027-01-03T22:00:00Z")  # Mon 4 Jan
    assert run(app, WED_6_JAN_9AM).startswith("Queued 0")  # no 3-days-before any more
    company.reminder_days = ""
    db.session.commit()
    assert run(app, "2027-01-10T22:00:00Z").startswith("Queued 0")


def test_a_claim_can_have_its_reminders_turned_off(app, served, login):
    client = login("priya.pm@harbourside.example", "claimpost-demo")
    page = client.get(f"/admin/claims/details/?id={served.claim_id}").get_data(as_text=True)
    assert "3 business days before and on the day of each deadline" in page
    response = client.post(
        f"/admin/claims/{served.claim_id}/reminders",
        data={"reminders": "off", "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ProgressClaim, served.claim_id).reminders_off
    assert run(app, WED_6_JAN_9AM).startswith("Queued 0")


def test_two_passes_at_once_queue_one_reminder(app, served, monkeypatch):
    """Two workers' passes, each in its own database session, reach the insert of the same
    reminder together (a barrier holds each until both have read the claim and worked out
    that its reminder is due): the unique key lets one make it."""
    barrier = threading.Barrier(2, timeout=30)
    insert = models.reminders._claim_row

    def together(*args):
        barrier.wait()
        return insert(*args)

    monkeypatch.setattr(models.reminders, "_claim_row", together)
    results, errors = [], []

    def one_pass():
        try:
            with app.app_context(), Session(db.engine) as session:
                made = queue_reminders(
                    session, at(WED_6_JAN_9AM), app.config["SECRET_KEY"], "replies.localhost"
                )
                results.append(len(made))
        except Exception as exc:  # reported below, not lost on the thread
            errors.append(exc)

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert len(reminders()) == 1
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 1


def test_reminder_days_are_read_and_checked():
    assert parse_reminder_days("3,0") == (3, 0)
    assert parse_reminder_days(" 0, 3 ,3; 5") == (5, 3, 0)
    assert parse_reminder_days("") == ()
    for bad in ("x", "-1", "21", "2.5"):
        with pytest.raises(ValueError):
            parse_reminder_days(bad)


def test_the_rule_of_when(served):
    clock = clock_of(db.session, db.session.get(ProgressClaim, served.claim_id))
    due = reminders_due(clock, (3, 0), at(WED_6_JAN_9AM))
    assert [(d.deadline.kind, d.days_before) for d in due] == [("payment_schedule", 3)]
    assert reminders_due(clock, (), at(WED_6_JAN_9AM)) == []
    # After the deadline passed, nothing more for it.
    later = reminders_due(clock, (3, 0), datetime(2027, 1, 12, 22, tzinfo=UTC))
    assert [(d.deadline.kind, d.days_before) for d in later] == [("payment_due", 3)]


def test_each_worker_runs_the_reminder_pass_periodically(app, sent, mail_config, monkeypatch):
    """The workers' own timer, with real time: served seven business days ago, the claim's
    payment schedule is three business days away today, so its reminder is due."""
    nsw, today = CALENDARS["AU-NSW"], nsw_working_day()
    set_accepted_at(
        sent.id, "olivia@owner.example", datetime.combine(nsw.before(today, 7), time(10), SYDNEY)
    )
    monkeypatch.setattr(models.reminders, "REMINDER_HOUR", 0)  # whatever the hour is now
    mail_config.update(REMINDER_INTERVAL_SECONDS=0.1)
    periodic = PeriodicReminders(app)
    periodic.after_worker_boot(None, None)
    try:
        [reminder] = wait_for(reminders, what="the periodic pass to queue the reminder")
        wait_for(lambda: state_of(reminder.id) == "sent", what="the reminder to be sent")
    finally:
        periodic.before_worker_shutdown(None, None)
    assert len(reminders()) == 1  # the passes after it found it made
