"""The statutory clock of a claim (issue 11): service from the SMTP 250 of the client's mail
server, the deadlines that follow, met by a written answer; the API's served_at and
deadlines; the contract's own periods, capped by the Act.

Hand-counted dates (NSW, business days exclude weekends, NSW public holidays and 27-31 Dec):
served Fri 18 Dec 2026 -> Mon 21 (1), Tue 22 (2), Wed 23 (3), Thu 24 (4), [Fri 25 Christmas,
Mon 28 - Thu 31 shutdown, Fri 1 Jan New Year], Mon 4 Jan (5), Tue 5 (6), Wed 6 (7), Thu 7 (8),
Fri 8 (9), Mon 11 (10): the payment schedule is due Mon 11 Jan 2027; Tue 12 (11) .. Mon 18
(15): payment is due Mon 18 Jan 2027.
"""

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from models import ClaimDecision, Communication, HeadContract, ProgressClaim, Recipient, User
from models.clock import LOOKBACK, MAX_CONTRACT_DAYS, clock_of, contract_period_problems
from models.compose import Draft
from models.deadlines import RULES, deadlines_of, service_of
from models.demo import DEMO_ADMIN_EMAIL, demo_import
from models.errors import ImportErrorInFile
from models.importing import import_file
from tests.conftest import wait_for
from tests.test_inbound import ingest, personalised, reply_by, wait_for_replies
from web.emails import send_claim_email
from web.extensions import db

SYDNEY = ZoneInfo("Australia/Sydney")
FRI_18_DEC_10AM = datetime(2026, 12, 18, 10, 0, tzinfo=SYDNEY)


def nsw_working_day() -> date:
    """Today in Sydney if the NSW Act counts it, else the last day it counted. A test that
    serves a claim "N business days ago" counts back from here: counted back from a Saturday,
    twelve business days leave the payment schedule one business day overdue, not two."""
    nsw, day = RULES["AU-NSW"].calendar, datetime.now(SYDNEY).date()
    return day if nsw.counts(day) else nsw.before(day, 1)


def claim_of(email: Communication) -> ProgressClaim:
    db.session.expire_all()
    return db.session.get(ProgressClaim, email.claim_id)


def accepted_at(email: Communication, address: str) -> datetime:
    db.session.expire_all()
    recipient = db.session.scalar(
        sa.select(Recipient).where(
            Recipient.communication_id == email.id, Recipient.email == address
        )
    )
    at = recipient.accepted_at
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def set_accepted_at(email_id: int, address: str, moment: datetime) -> None:
    """Put the recorded SMTP acceptance at a known moment (to count its days by hand), in UTC
    as ClaimPost stores times (SQLite keeps no offset)."""
    db.session.execute(
        sa.update(Recipient)
        .where(Recipient.communication_id == email_id, Recipient.email == address)
        .values(accepted_at=moment.astimezone(UTC))
    )
    db.session.commit()


def api_claim(api, claim_id: int) -> dict:
    admin = db.session.scalar(sa.select(User).where(User.email == DEMO_ADMIN_EMAIL))
    response = api(admin).get(f"/api/v1/claims/{claim_id}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- service -------------------------------------------------------------------------------


def test_a_claim_is_served_when_the_clients_mail_server_accepts_it(sent, smtp_server, api):
    # The demo's claim 3 went To Olivia (the client), Cc Priya (ours), Bcc Quentin (the QS).
    olivia = accepted_at(sent, "olivia@owner.example")
    body = api_claim(api, sent.claim_id)
    assert body["served_at"] == olivia.strftime("%Y-%m-%dT%H:%M:%SZ")
    clock = clock_of(db.session, claim_of(sent))
    assert clock.service.recipient_email == "olivia@owner.example"
    assert clock.service.email_id == sent.id
    # The reply line the test's own SMTP server gave is the record of that acceptance.
    assert clock.service.smtp_reply.startswith("250 ")
    assert "250 " in clock.service.basis and "NSWCA 161" in clock.service.basis
    local_day = olivia.astimezone(SYDNEY).date()
    [schedule, payment] = body["deadlines"]
    assert schedule["kind"] == "payment_schedule" and payment["kind"] == "payment_due"
    assert schedule["basis"].startswith(
        f"10 business days after service on {local_day:%a} {local_day.day} {local_day:%b %Y}, "
        "Building and Construction Industry Security of Payment Act 1999 (NSW) s 14(4)(b)"
    )
    assert schedule["met_at"] is None and payment["met_at"] is None


def test_the_deadlines_count_from_the_day_of_service(sent, api):
    set_accepted_at(sent.id, "olivia@owner.example", FRI_18_DEC_10AM)
    body = api_claim(api, sent.claim_id)
    assert body["served_at"] == "2026-12-17T23:00:00Z"  # 10 am in Sydney, in UTC
    assert [(d["kind"], d["due"]) for d in body["deadlines"]] == [
        ("payment_schedule", "2027-01-11"),
        ("payment_due", "2027-01-18"),
    ]
    assert body["deadlines"][0]["basis"] == (
        "10 business days after service on Fri 18 Dec 2026, Building and Construction Industry "
        "Security of Payment Act 1999 (NSW) s 14(4)(b)"
    )


def test_copies_and_the_contractors_own_people_do_not_serve_a_claim(demo, worker, smtp_server, api):
    """Olivia's server refuses the claim (550); Priya (Cc, ours) and Quentin (Bcc) get it:
    nobody the claim was addressed to on the client's side has it, so it is not served."""

    class RefuseOlivia(type(smtp_server.handler)):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address == "olivia@owner.example":
                return "550 5.1.1 <olivia@owner.example>: mailbox unavailable"
            return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    smtp_server.handler.__class__ = RefuseOlivia
    claim_id = demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    claim = db.session.get(ProgressClaim, claim_id)
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    email = send_claim_email(
        claim,
        sender,
        Draft(to=["olivia@owner.example"], cc=[sender.email], bcc=["quentin@qs.example"]),
    )
    wait_for(lambda: smtp_server.received, what="the copies to be delivered")
    wait_for(
        lambda: accepted_or_none(email.id, "quentin@qs.example"), what="the Bcc to be accepted"
    )
    body = api_claim(api, claim_id)
    assert (body["served_at"], body["deadlines"]) == (None, [])


def accepted_or_none(email_id: int, address: str):
    db.session.expire_all()
    return db.session.scalar(
        sa.select(Recipient.accepted_at).where(
            Recipient.communication_id == email_id, Recipient.email == address
        )
    )


def test_a_bounce_of_the_only_serving_recipient_unserves_the_claim(app, sent, tmp_path, api):
    assert api_claim(api, sent.claim_id)["served_at"] is not None
    ingest(app, tmp_path, personalised("dsn_bounce.eml", sent))
    [bounce] = wait_for_replies(sent.id)
    assert bounce.kind == "bounce"
    body = api_claim(api, sent.claim_id)
    assert (body["served_at"], body["deadlines"]) == (None, [])


def test_a_claim_emailed_twice_is_served_by_the_first_acceptance(sent, worker, smtp_server, api):
    first = accepted_at(sent, "olivia@owner.example")
    claim = claim_of(sent)
    again = send_claim_email(claim, sent.sender, Draft(to=["olivia@owner.example"]))
    wait_for(lambda: accepted_or_none(again.id, "olivia@owner.example"), what="the second email")
    assert api_claim(api, claim.id)["served_at"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_earliest_acceptance_of_a_serving_recipient_serves_whichever_email_it_was(
    sent, worker, smtp_server, api
):
    """Each claim's first acceptance is found by the database (not by reading every recipient
    of a claim emailed many times): an earlier acceptance recorded on the later email serves
    the claim, and once that recipient bounces the first email's acceptance serves it again."""
    first = accepted_at(sent, "olivia@owner.example")
    claim = claim_of(sent)
    again = send_claim_email(claim, sent.sender, Draft(to=["olivia@owner.example"]))
    wait_for(lambda: accepted_or_none(again.id, "olivia@owner.example"), what="the second email")
    earlier = first - timedelta(hours=3)
    set_accepted_at(again.id, "olivia@owner.example", earlier)
    assert api_claim(api, claim.id)["served_at"] == earlier.strftime("%Y-%m-%dT%H:%M:%SZ")
    db.session.execute(
        sa.update(Recipient).where(Recipient.communication_id == again.id).values(status="bounced")
    )
    db.session.commit()
    assert api_claim(api, claim.id)["served_at"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- met by a written answer ---------------------------------------------------------------


def test_an_approval_before_the_deadline_meets_the_payment_schedule(sent, listener, api):
    reply_by(listener, sent, "Olivia Owner <olivia@owner.example>", "Approved, thank you.")
    [reply] = wait_for_replies(sent.id)
    assert reply.decision == "approved"
    body = api_claim(api, sent.claim_id)
    schedule, payment = body["deadlines"]
    decided = db.session.scalar(sa.select(ClaimDecision.decided_at))
    decided = decided if decided.tzinfo else decided.replace(tzinfo=UTC)
    assert schedule["met_at"] == decided.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Paying meets the payment deadline; ClaimPost records answers, not payments.
    assert payment["met_at"] is None
    assert clock_of(db.session, claim_of(sent)).deadlines[1].state(date(2027, 6, 1)) == (
        "not_tracked"
    )


def test_an_answer_after_the_deadline_does_not_meet_it(sent, listener, api):
    set_accepted_at(sent.id, "olivia@owner.example", datetime(2026, 6, 1, 10, tzinfo=SYDNEY))
    reply_by(listener, sent, "Olivia Owner <olivia@owner.example>", "Approved.")
    wait_for_replies(sent.id)
    clock = clock_of(db.session, claim_of(sent))
    schedule = clock.deadlines[0]
    # Tue 2 .. Fri 5 (1-4), Mon 8 Jun the King's Birthday, Tue 9 .. Fri 12 (5-8), 15, 16.
    assert schedule.due == date(2026, 6, 16)
    assert schedule.met_at is None and schedule.state(clock.today()) == "late"
    assert api_claim(api, sent.claim_id)["deadlines"][0]["met_at"] is None


def test_an_unanswered_claim_past_its_deadline_is_overdue(sent):
    set_accepted_at(sent.id, "olivia@owner.example", FRI_18_DEC_10AM)
    clock = clock_of(db.session, claim_of(sent))
    schedule = clock.deadlines[0]
    assert schedule.state(date(2027, 1, 11)) == "due_today"
    assert schedule.days_left(date(2027, 1, 8)) == 1
    assert schedule.state(date(2027, 1, 12)) == "overdue"
    assert schedule.days_left(date(2027, 1, 13)) == -2


# --- the contract's own periods -------------------------------------------------------------


def contract_with(**periods) -> dict:
    data = demo_import()
    data["users"] = []
    data["projects"][0]["members"] = []
    data["projects"][0]["head_contracts"][0].update(periods)
    return data


def test_import_keeps_the_contracts_own_periods(ctx):
    import_file(db.session, contract_with(payment_schedule_business_days=5))
    contract = db.session.scalar(sa.select(HeadContract))
    assert (contract.payment_schedule_business_days, contract.payment_due_business_days) == (
        5,
        None,
    )


def test_the_contracts_shorter_periods_replace_the_acts(sent, api):
    contract = db.session.get(HeadContract, claim_of(sent).head_contract_id)
    contract.payment_schedule_business_days, contract.payment_due_business_days = 5, 10
    db.session.commit()
    set_accepted_at(sent.id, "olivia@owner.example", FRI_18_DEC_10AM)
    deadlines = api_claim(api, sent.claim_id)["deadlines"]
    assert [(d["kind"], d["due"]) for d in deadlines] == [
        ("payment_schedule", "2027-01-04"),  # 21, 22, 23, 24, Mon 4 Jan
        ("payment_due", "2027-01-11"),
    ]
    assert (
        "the contract's period (at most 10: Building and Construction Industry"
        in (deadlines[0]["basis"])
    )


@pytest.mark.parametrize(
    ("jurisdiction", "periods", "field", "words"),
    [
        ("AU-NSW", {"payment_schedule_business_days": 12}, "payment_schedule_business_days",
         "12 business days is more than the 10 business days Building and Construction "
         "Industry Security of Payment Act 1999 (NSW) s 14(4)(b) allows"),
        ("AU-QLD", {"payment_due_business_days": 16}, "payment_due_business_days",
         "more than the 15 business days Queensland Building and Construction Commission Act "
         "1991 s 67U allows"),
        ("AU-NSW", {"payment_due_business_days": 0}, "payment_due_business_days",
         "must be a whole number from 1"),
        ("UK", {"payment_schedule_business_days": 5}, "payment_schedule_business_days",
         "takes no effect under UK"),
        ("none", {"payment_due_business_days": 5}, "payment_due_business_days",
         "takes no effect under none"),
    ],
)  # fmt: skip
def test_import_refuses_periods_the_act_does_not_allow(ctx, jurisdiction, periods, field, words):
    data = contract_with(jurisdiction=jurisdiction, **periods)
    with pytest.raises(ImportErrorInFile) as refused:
        import_file(db.session, data)
    db.session.rollback()
    assert f"projects[0].head_contracts[0].{field}: " in str(refused.value)
    assert words in str(refused.value)


def test_periods_the_act_does_not_cap_may_be_longer():
    # SA s 12(2): the contract's own due date stands, longer or shorter.
    assert contract_period_problems("AU-SA", None, 30) == {}
    assert contract_period_problems("US", None, 45) == {}
    assert contract_period_problems("NZ", 25, 25) == {}
    assert contract_period_problems("AU-SA", None, 300) == {
        "payment_due_business_days": "300 business days is more than the 260 business days "
        "ClaimPost takes"
    }


def test_the_cli_import_reports_a_period_over_the_cap(app, tmp_path):
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(contract_with(payment_schedule_business_days=11)))
    result = app.test_cli_runner().invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert "payment_schedule_business_days: 11 business days is more than the 10" in result.output


@pytest.mark.parametrize("jurisdiction", sorted(RULES))
def test_every_deadline_falls_within_the_lookback_of_the_dashboard_and_reminders(jurisdiction):
    """The dashboard and the reminders look only at claims served in the last LOOKBACK: no
    deadline the rules or a contract's longest allowed period can set may fall after it."""
    latest = timedelta(0)
    for month in range(1, 13):
        served = service_of(datetime(2026, month, 20, 3, 0, tzinfo=UTC), jurisdiction)
        for deadline in deadlines_of(
            jurisdiction,
            served,
            payment_schedule_business_days=MAX_CONTRACT_DAYS,
            payment_due_business_days=MAX_CONTRACT_DAYS,
            period_end=served.on,
        ):
            latest = max(latest, deadline.due - served.on)
    assert latest + timedelta(days=1) < LOOKBACK
