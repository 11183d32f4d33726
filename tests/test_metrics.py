"""/metrics per company for a company admin, every company for the scrape token; durations and
retries counted by the workers in Redis; /healthz names the database, broker and SMTP apart."""

import copy
import re

import pytest
import sqlalchemy as sa

from models import ApiToken, Communication, ProgressClaim, User
from models.compose import Draft
from models.demo import demo_import
from models.importing import import_file
from tests.conftest import wait_for
from tests.mail import free_port
from web import health
from web.emails import send_claim_email
from web.extensions import db
from workers.metrics import PREFIX


@pytest.fixture
def rival(demo, broker) -> ProgressClaim:
    """A second company (its own demo copy), with one email of its own queued."""
    data = copy.deepcopy(demo_import())
    data["company"]["name"] = "Rival Builders"
    for person in data["users"]:
        person["email"] = person["email"].replace("harbourside", "rival")
    project = data["projects"][0]
    project["number"] = "R-1"
    for member in project["members"]:
        member["email"] = member["email"].replace("harbourside", "rival")
    ids = import_file(db.session, data)
    db.session.commit()
    claim = db.session.get(
        ProgressClaim, ids["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )
    sender = db.session.scalar(sa.select(User).where(User.email == "admin@rival.example"))
    for _ in range(2):
        send_claim_email(claim, sender, Draft(to=["olivia@owner.example"], message="theirs"))
    return claim


@pytest.fixture
def scrape_token(ctx) -> str:
    row, token = ApiToken.issue_metrics()
    db.session.add(row)
    db.session.commit()
    return token


def scrape(app, token: str | None):
    client = app.test_client()
    if token:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get("/metrics")


def value(text: str, metric: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    found = re.search(rf"^{metric}\{{{re.escape(wanted)}\}} (\S+)$", text, re.MULTILINE)
    assert found, f"{metric}{{{wanted}}} is not in the output"
    return float(found.group(1))


def test_a_company_admin_sees_only_its_company_and_the_scrape_token_sees_all(
    app, demo, rival, make_user, make_token, scrape_token, broker
):
    ours = db.session.scalar(sa.select(User).where(User.email == "admin@harbourside.example"))
    theirs = rival.project.company_id
    claim = db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )
    send_claim_email(claim, ours, Draft(to=["olivia@owner.example"], message="ours"))

    text = scrape(app, make_token(ours)).get_data(as_text=True)
    assert value(text, "claimpost_emails", company=ours.company_id, state="queued") == 1
    assert f'company="{theirs}"' not in text  # another company's mail is not counted at all
    assert "claimpost_queue_messages" not in text  # the broker is the installation's
    assert value(text, "claimpost_recipients", company=ours.company_id, status="bounced") == 0

    everything = scrape(app, scrape_token)
    assert everything.status_code == 200
    text = everything.get_data(as_text=True)
    assert value(text, "claimpost_emails", company=ours.company_id, state="queued") == 1
    assert value(text, "claimpost_emails", company=theirs, state="queued") == 2
    assert value(text, "claimpost_queue_messages", queue="email") == 3  # queued, not yet taken
    assert "# TYPE claimpost_email_send_seconds histogram" in text


def test_the_scrape_token_has_no_other_rights(app, demo, scrape_token, make_user, make_token):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {scrape_token}"
    assert client.get("/api/v1/claims").status_code == 401
    assert scrape(app, None).status_code == 401
    assert scrape(app, "not-a-token").status_code == 401
    member = make_user("pm2@harbourside.example")
    assert scrape(app, make_token(member)).status_code == 403


def test_render_and_send_durations_and_retries_are_counted_per_company(
    app, demo, worker, smtp_server, make_token, broker
):
    broker.client.delete(*broker.client.keys(f"{PREFIX}:*") or [f"{PREFIX}:none"])
    smtp_server.handler.data_replies = ["451 4.3.0 try again later"]
    claim = db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@harbourside.example"))
    email = send_claim_email(claim, admin, Draft(to=["olivia@owner.example"], message="x"))

    def sent():
        db.session.expire_all()
        return db.session.get(Communication, email.id).state == "sent"

    wait_for(sent, what="the email to be sent after one retry")
    text = scrape(app, make_token(admin)).get_data(as_text=True)
    company = admin.company_id
    assert value(text, "claimpost_email_render_seconds_count", company=company) == 1
    assert value(text, "claimpost_email_send_seconds_count", company=company) == 2
    assert value(text, "claimpost_email_send_seconds_bucket", company=company, le="+Inf") == 2
    assert value(text, "claimpost_email_retries_total", company=company) == 1
    assert value(text, "claimpost_email_send_seconds_sum", company=company) > 0


def test_healthz_reports_database_broker_and_smtp_apart(app, smtp_server):
    health._smtp_checked.clear()
    client = app.test_client()
    saved_smtp = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = smtp_server.url
    try:
        body = client.get("/healthz").get_json()
        assert body == {"ok": True, "database": "ok", "broker": "ok", "smtp": "ok"}

        health._smtp_checked.clear()
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens there
        response = client.get("/healthz")
        body = response.get_json()
        # The web still serves (the outbox waits for the mail server), and says what is wrong.
        assert response.status_code == 200 and body["ok"] is True
        assert body["smtp"].startswith("error: ConnectionRefusedError")

        saved = app.config["REDIS_URL"]
        app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
        try:
            response = client.get("/healthz")
        finally:
            app.config["REDIS_URL"] = saved
        assert response.status_code == 503
        body = response.get_json()
        assert body["broker"].startswith("error: ") and body["database"] == "ok"
    finally:
        app.config["SMTP_URL"] = saved_smtp
        health._smtp_checked.clear()
