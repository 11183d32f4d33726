"""Home's dashboard: figures over the emails the user may see, time series in the company's own
hours and days, latency percentiles, bounce rate, claims awaiting an answer, and each figure
linking to the Outbox or Inbound filtered to what it counts."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from models import (
    BillingPermission,
    ClaimDecision,
    Communication,
    Company,
    EmailEvent,
    InboundMessage,
    ProgressClaim,
    Reply,
    User,
)
from models.access import email_visible
from models.compose import Draft
from models.dashboard import dashboard
from tests.conftest import csrf_token_from
from tests.test_emails_web import ADMIN, DEMO_PASSWORD, PM
from web.emails import send_claim_email
from web.extensions import db

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 12:30 in Adelaide (+10:30 in summer)


@pytest.fixture
def claims(demo) -> list[ProgressClaim]:
    ids = [c["id"] for c in demo["projects"][0]["head_contracts"][0]["claims"]]
    return [db.session.get(ProgressClaim, i) for i in ids]


def email(claim, state: str, created: datetime, sent: datetime | None = None, private=False):
    """An email of the demo's PM moved straight to `state`, with its times set."""
    pm = db.session.scalar(sa.select(User).where(User.email == PM))
    row = send_claim_email(
        claim, pm, Draft(to=["olivia@owner.example"], message="m", private=private)
    )
    row.state, row.created_at, row.sent_at = state, created, sent
    if state in ("sent", "replied"):
        db.session.add(EmailEvent(communication_id=row.id, state="sent", at=sent))
    db.session.commit()
    return row


def figures_for(user: User, now=NOW, zone="Australia/Adelaide"):
    return dashboard(db.session, email_visible(user), zone, now)


def test_sent_per_hour_and_day_follow_the_companys_midnight(claims, broker):
    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
    before_midnight = datetime(2026, 12, 1, 13, 20, tzinfo=UTC)  # 23:50 on 1 December there
    after_midnight = datetime(2026, 12, 1, 13, 40, tzinfo=UTC)  # 00:10 on 2 December there
    for sent in (before_midnight, after_midnight, NOW - timedelta(days=40)):
        email(claims[2], "sent", sent - timedelta(seconds=30), sent)
    figures = figures_for(admin)
    days = dict(figures.sent_per_day)
    assert len(days) == 30 and sum(days.values()) == 2  # 40 days ago is outside
    assert days[datetime(2026, 12, 1).date()] == 1 and days[datetime(2026, 12, 2).date()] == 1
    hours = dict((h.strftime("%d %H:%M"), n) for h, n in figures.sent_per_hour)
    assert len(hours) == 24
    assert hours["01 23:00"] == 1 and hours["02 00:00"] == 1 and sum(hours.values()) == 2
    # The one sent 40 days ago is past the settled states' window.
    assert figures.by_state["sent"] == 2 and figures.by_state["failed"] == 0


def test_emails_by_state_count_unsettled_ones_however_old(claims, broker):
    """Queued, rendered, sending and failed emails are counted whatever their age; sent,
    replied and cancelled ones over the emails created in the last 30 days."""
    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
    old, recent = NOW - timedelta(days=200), NOW - timedelta(days=2)
    for state in ("queued", "failed", "sent", "replied", "cancelled"):
        email(claims[2], state, old, old if state in ("sent", "replied") else None)
    for state in ("failed", "sent", "replied", "cancelled"):
        email(claims[2], state, recent, recent if state in ("sent", "replied") else None)
    figures = figures_for(admin)
    assert figures.by_state == {
        "queued": 1,
        "rendered": 0,
        "sending": 0,
        "sent": 1,
        "replied": 1,
        "failed": 2,
        "cancelled": 1,
    }
    assert figures.settled_since == NOW - timedelta(days=30)


def test_latency_percentiles_bounce_rate_and_failures(claims, broker):
    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
    for seconds in range(1, 101):  # queued -> sent in 1 s ... 100 s
        sent = NOW - timedelta(hours=1)
        email(claims[2], "sent", sent - timedelta(seconds=seconds), sent)
    email(claims[2], "failed", NOW - timedelta(hours=2))
    rows = db.session.scalars(sa.select(Communication).where(Communication.state == "sent"))
    recipients = [r for e in rows for r in e.recipients][:4]
    for recipient, status in zip(recipients, ["accepted"] * 3 + ["bounced"], strict=True):
        # As the worker records them: accepted by their server when the email was sent.
        recipient.status, recipient.accepted_at = status, NOW - timedelta(hours=1)
    db.session.commit()
    figures = figures_for(admin)
    assert figures.latency_p50 == timedelta(seconds=50)
    assert figures.latency_p95 == timedelta(seconds=95)
    assert figures.latency_sample == 100
    assert (figures.recipients_delivered, figures.recipients_bounced) == (4, 1)
    assert figures.bounce_rate == 0.25
    assert figures.failed == 1
    # A month later nothing was sent in either window (7 days, 30 days).
    later = figures_for(admin, now=NOW + timedelta(days=31))
    assert later.latency_p50 is None and later.bounce_rate is None


def test_claims_awaiting_an_answer_oldest_first(claims, broker, make_user, project_id):
    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
    answered, waiting = claims[1], claims[2]
    old = email(answered, "sent", NOW - timedelta(days=6), NOW - timedelta(days=6))
    email(waiting, "sent", NOW - timedelta(days=3), NOW - timedelta(days=3))
    inbound = InboundMessage(dedupe_key="<a@b>", raw_sha256="0" * 64, size=1, via="ingest")
    db.session.add(inbound)
    db.session.flush()
    reply = Reply(
        inbound_id=inbound.id,
        communication_id=old.id,
        from_address="olivia@owner.example",
        from_name="Olivia",
        received_at=NOW - timedelta(days=1),
        kind="reply",
    )
    db.session.add(reply)
    db.session.flush()
    db.session.add(
        ClaimDecision(
            claim_id=answered.id,
            reply_id=reply.id,
            outcome="rejected",
            person_name="Olivia",
            person_email="olivia@owner.example",
            decided_at=NOW - timedelta(days=1),
        )
    )
    # claim 2 of the demo is approved; make it under review so only the decision excludes it
    answered.status = "under_review"
    db.session.commit()
    figures = figures_for(admin)
    assert [a.claim_id for a in figures.awaiting] == [waiting.id] and figures.awaiting_count == 1
    assert figures.awaiting[0].waiting == timedelta(days=3)


def test_a_read_only_user_counts_no_private_email(claims, broker, make_user, project_id):
    reader = make_user("reader@harbourside.example", project_id, BillingPermission.READ_ONLY)
    email(claims[2], "failed", NOW, private=True)
    email(claims[2], "failed", NOW)
    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
    assert figures_for(admin).failed == 2
    assert figures_for(reader).failed == 1


def test_the_bounce_rate_counts_every_recipient_of_the_emails_the_user_may_see(
    claims, broker, make_user, project_id
):
    reader = make_user("reader@harbourside.example", project_id, BillingPermission.READ_ONLY)
    pm = db.session.scalar(sa.select(User).where(User.email == PM))
    for private, statuses in ((False, ["accepted", "bounced"]), (True, ["bounced", "bounced"])):
        row = send_claim_email(
            claims[2],
            pm,
            Draft(to=["olivia@owner.example"], cc=["quentin@qs.example"], private=private),
        )
        row.state, row.sent_at = "sent", NOW - timedelta(hours=1)
        for recipient, status in zip(row.recipients, statuses, strict=True):
            recipient.status, recipient.accepted_at = status, NOW - timedelta(hours=1)
    db.session.commit()
    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
    assert (figures_for(admin).recipients_delivered, figures_for(admin).recipients_bounced) == (
        4,
        3,
    )
    assert (figures_for(reader).recipients_delivered, figures_for(reader).recipients_bounced) == (
        2,
        1,
    )


def test_home_links_each_figure_to_the_filtered_list(login, claims, broker, make_user, project_id):
    email(claims[2], "failed", NOW)
    email(claims[2], "sent", NOW - timedelta(minutes=5), NOW)
    for key, status, subject in [
        ("<stray@x>", "unmatched", "Stray answer"),
        ("<ooo@x>", "auto_reply", "Out of office"),
    ]:
        db.session.add(
            InboundMessage(
                dedupe_key=key,
                raw_sha256="1" * 64,
                size=1,
                via="ingest",
                status=status,
                subject=subject,
            )
        )
    db.session.commit()
    admin = login(ADMIN, DEMO_PASSWORD)
    page = admin.get("/admin/").get_data(as_text=True)
    failed_link = '<a href="/admin/outbox/?flt0_state_equals=failed">1</a>'
    assert failed_link in page
    # A settled state's figure lists the Outbox over the same 30 days it counts.
    sent_link = page.split('data-state="sent"', 1)[1].split('href="', 1)[1].split('"', 1)[0]
    prefix = "/admin/outbox/?flt0_state_equals=sent&amp;flt1_created_greater_than="
    assert sent_link.startswith(prefix)
    sent_list = admin.get(sent_link.replace("&amp;", "&")).get_data(as_text=True)
    assert "badge-success" in sent_list.split("<tbody", 1)[-1]
    assert 'id="unmatched-count"><a href="/admin/inbound/?flt0_' in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "<script>" not in page
    listed = admin.get("/admin/outbox/?flt0_state_equals=failed").get_data(as_text=True)
    assert listed.count('data-live-email="') and "badge-danger" in listed
    assert "badge-success" not in listed.split("<tbody", 1)[-1]  # the sent one is not listed
    unmatched_url = page.split('id="unmatched-count"><a href="', 1)[1].split('"', 1)[0]
    inbound_page = admin.get(unmatched_url.replace("&amp;", "&")).get_data(as_text=True)
    assert "Stray answer" in inbound_page and "Out of office" not in inbound_page
    # A standard member sees the figures of what they may see, without Outbox links.
    pm = login(PM, DEMO_PASSWORD)
    page = pm.get("/admin/").get_data(as_text=True)
    assert 'id="failed-count">1</dd>' in page and "unmatched-count" not in page
    assert csrf_token_from(page)
    assert db.session.scalar(sa.select(sa.func.count(Company.id))) == 1


def test_sent_series_is_grouped_by_quarter_hour_in_the_database(claims, broker):
    """Two emails sent in one quarter hour are one group: the series reads a row per quarter
    hour, not one per second (SQLAlchemy's `/` divided as reals on SQLite)."""
    from models.dashboard import _sent_quarters

    admin = db.session.scalar(sa.select(User).where(User.email == ADMIN))
    quarter = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)
    for second in (10, 500):
        at = quarter + timedelta(seconds=second)
        email(claims[2], "sent", at - timedelta(seconds=5), at)
    groups = _sent_quarters(db.session, email_visible(admin), NOW - timedelta(days=1))
    assert groups == [(quarter, 2)]


def test_postgresql_plans_each_query_for_its_parameters(claims):
    """A statement prepared by psycopg after five runs keeps being planned for its values: a
    generic plan cannot tell "sent in the last week" from "ever" (the dashboard, 47 -> 290 ms)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan cache")
    assert db.session.scalar(sa.text("SHOW plan_cache_mode")) == "force_custom_plan"
    assert db.session.scalar(sa.text("SHOW jit")) == "off"
