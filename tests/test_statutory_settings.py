"""The settings of the statutory clock in the back office (issue 11): the company's reminder
days, the contract's own periods (checked against the Act's caps), the dashboard's list of
deadlines, and migration 0014 carrying existing rows forward."""

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from models import Company, HeadContract, ProgressClaim, Recipient
from models.calendars import CALENDARS
from tests.test_backoffice import contract_form, form_values, users  # noqa: F401 (fixture)
from tests.test_inbound import reply_by, wait_for_replies
from tests.test_statutory_clock import nsw_working_day
from web.extensions import db

SYDNEY = ZoneInfo("Australia/Sydney")


def company_form(client, company_id: int) -> tuple[str, dict]:
    url = f"/admin/company/edit/?id={company_id}"
    return url, form_values(client.get(url).get_data(as_text=True))


def test_the_company_sets_its_reminder_days(login, users, demo):  # noqa: F811
    client = login("boss@harbourside.example")
    url, values = company_form(client, demo["company_id"])
    assert values["reminder_days"] == "3,0"  # the default
    values["reminder_days"] = " 5, 1 ,0"
    assert client.post(url, data=values).status_code == 302
    db.session.expire_all()
    assert db.session.get(Company, demo["company_id"]).reminder_days == "5,1,0"
    values["reminder_days"] = "3, soon"
    page = client.post(url, data=values).get_data(as_text=True)
    assert "&#39;soon&#39; is not a number of business days" in page
    values["reminder_days"] = ""  # none
    assert client.post(url, data=values).status_code == 302
    db.session.expire_all()
    assert db.session.get(Company, demo["company_id"]).reminder_days == ""


def test_the_contract_form_takes_shorter_periods_and_refuses_longer(login, users, demo):  # noqa: F811
    contract_id = demo["projects"][0]["head_contracts"][0]["id"]
    client = login("boss@harbourside.example")
    url, values = contract_form(client, contract_id)
    values["payment_schedule_business_days"] = "12"
    page = client.post(url, data=values).get_data(as_text=True)
    assert (
        "Payment schedule within: 12 business days is more than the 10 business days "
        "Building and Construction Industry Security of Payment Act 1999 (NSW) s 14(4)(b) allows"
    ) in page
    values["payment_schedule_business_days"] = "7"
    assert client.post(url, data=values).status_code == 302
    db.session.expire_all()
    assert db.session.get(HeadContract, contract_id).payment_schedule_business_days == 7


def serve(email_id: int, local_day) -> None:
    moment = datetime.combine(local_day, time(10), SYDNEY).astimezone(ZoneInfo("UTC"))
    db.session.execute(
        sa.update(Recipient)
        .where(Recipient.communication_id == email_id, Recipient.kind == "to")
        .values(accepted_at=moment)
    )
    db.session.commit()


def deadline_rows(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-claim="\d+" data-kind="(\w+)" data-state="(\w+)"', page)


def test_the_dashboard_lists_deadlines_due_within_five_business_days_and_overdue(
    sent, login, listener
):
    nsw, today = CALENDARS["AU-NSW"], nsw_working_day()
    client = login("admin@harbourside.example", "claimpost-demo")
    # Served 12 business days ago: the schedule is 2 days overdue, payment due in 3.
    serve(sent.id, nsw.before(today, 12))
    assert deadline_rows(client.get("/admin/").get_data(as_text=True)) == [
        ("payment_schedule", "overdue"),
        ("payment_due", "open"),
    ]
    # Served today: both deadlines are more than 5 business days away.
    serve(sent.id, today)
    page = client.get("/admin/").get_data(as_text=True)
    assert deadline_rows(page) == []
    assert "No statutory deadline of an unanswered claim falls in the next 5" in page
    # Served 6 business days ago: the schedule is due in 4; answered, it leaves the list.
    serve(sent.id, nsw.before(today, 6))
    assert deadline_rows(client.get("/admin/").get_data(as_text=True)) == [
        ("payment_schedule", "open")
    ]
    reply_by(listener, sent, "Olivia Owner <olivia@owner.example>", "Approved.")
    wait_for_replies(sent.id)
    assert deadline_rows(client.get("/admin/").get_data(as_text=True)) == []


def test_the_claim_page_shows_an_overdue_deadline_in_red(sent, login):
    nsw, today = CALENDARS["AU-NSW"], nsw_working_day()
    serve(sent.id, nsw.before(today, 12))
    client = login("admin@harbourside.example", "claimpost-demo")
    page = client.get(f"/admin/claims/details/?id={sent.claim_id}").get_data(as_text=True)
    assert '<tr data-kind="payment_schedule" data-state="overdue" class="table-danger">' in page
    assert "Overdue by 2 business days" in page
    assert "3 business days left" in page
    assert "10 business days after service on" in page


def test_a_contract_under_no_act_has_no_clock(sent, login, api):
    contract = db.session.get(ProgressClaim, sent.claim_id).head_contract
    contract.jurisdiction = "none"
    db.session.commit()
    client = login("admin@harbourside.example", "claimpost-demo")
    page = client.get(f"/admin/claims/details/?id={sent.claim_id}").get_data(as_text=True)
    assert "the claim starts no statutory clock" in page
    assert 'id="claim-deadlines"' not in page
    body = api(contract.project.company.users[0]).get(f"/api/v1/claims/{sent.claim_id}")
    # Served all the same (the email reached Olivia), with no deadline under no Act.
    assert body.get_json()["served_at"] is not None and body.get_json()["deadlines"] == []


def test_existing_companies_get_the_default_reminder_days(app):
    with app.app_context():
        downgrade(revision="0009")
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO company (name, terminology, decisions_move_status) "
                        "VALUES ('Old Builder', 'en-AU', false)"
                    )
                )
        finally:
            upgrade()
        with db.engine.connect() as conn:
            days = conn.execute(sa.text("SELECT reminder_days FROM company")).scalar_one()
    assert days == "3,0"
