"""Live pages: the claim's Emails tab, an email's page and the Outbox ask a small JSON endpoint
what changed, and get HTML only when something did; the Outbox's Retry and Cancel buttons."""

import pytest
import sqlalchemy as sa

from models import BillingPermission, Communication, ProgressClaim
from models.communication import move
from models.failures import Failure, FailureKind
from tests.conftest import csrf_token_from
from tests.test_emails_web import ADMIN, DEMO_PASSWORD, PM, compose, contact_id
from web.badges import claim_status_badge
from web.extensions import db

READER = "reader@harbourside.example"


@pytest.fixture
def claim_id(demo) -> int:
    return demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]


def live(client, url: str, since: str = "", **args) -> dict:
    response = client.get(url, query_string={"since": since, **args})
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def fail(email_id: int, error: str = "554 5.7.1 relay refused") -> None:
    """Fail the email as the worker does when the server refuses it: the detail, and the
    failure's kind with the server's reply (the words everyone reads)."""
    refused = Failure(FailureKind.SERVER_REFUSED, {"reply": error})
    assert move(
        db.session,
        email_id,
        {"queued"},
        "failed",
        last_error=error,
        note=error,
        **refused.columns(),
    )
    db.session.commit()


def test_the_claim_page_gets_html_only_when_something_changed(login, claim_id, broker):
    client = login(PM, DEMO_PASSWORD)
    compose(client, claim_id, to=contact_id("olivia@owner.example"), subject="Live one")
    url = f"/admin/claims/{claim_id}/live"
    first = live(client, url)
    assert "Live one" in first["parts"]["claim-email-rows"] and first["interval"] == 2000
    assert live(client, url, since=first["cursor"])["parts"] == {}  # nothing new: no HTML

    email = db.session.scalar(sa.select(Communication))
    fail(email.id)
    changed = live(client, url, since=first["cursor"])
    assert changed["cursor"] != first["cursor"]
    assert 'data-state="failed"' in changed["parts"]["claim-email-rows"]
    assert changed["interval"] == 5000  # nothing on its way: ask less often
    db.session.expire_all()
    status = db.session.get(ProgressClaim, claim_id).status
    assert changed["parts"]["claim-status"] == claim_status_badge(status)


def test_a_private_email_reaches_no_one_who_may_not_see_it_live(
    login, claim_id, broker, make_user, project_id
):
    make_user(READER, project_id, BillingPermission.READ_ONLY)
    reader = login(READER)
    url = f"/admin/claims/{claim_id}/live"
    before = live(reader, url)
    pm = login(PM, DEMO_PASSWORD)
    compose(pm, claim_id, to=contact_id("olivia@owner.example"), subject="Hush", private="y")
    after = live(reader, url, since=before["cursor"])
    # The reader sees the claim move on (sending it put it under review), but of the emails
    # nothing changed for them: their newest event and reply are as before.
    assert after["cursor"].split(".")[:2] == before["cursor"].split(".")[:2]
    assert "Hush" not in after["parts"]["claim-email-rows"]
    email = db.session.scalar(sa.select(Communication))
    page = f"/admin/claims/{claim_id}/emails/{email.id}"
    assert reader.get(page).status_code == 404
    assert reader.get(page + "/live").status_code == 404
    assert "Hush" in live(pm, url, since=before["cursor"])["parts"]["claim-email-rows"]


def test_the_email_page_follows_its_state(login, claim_id, broker):
    client = login(PM, DEMO_PASSWORD)
    compose(client, claim_id, to=contact_id("olivia@owner.example"), subject="Followed")
    email = db.session.scalar(sa.select(Communication))
    page = client.get(f"/admin/claims/{claim_id}/emails/{email.id}").get_data(as_text=True)
    cursor = page.split('data-live-cursor="', 1)[1].split('"', 1)[0]
    url = f"/admin/claims/{claim_id}/emails/{email.id}/live"
    assert live(client, url, since=cursor)["parts"] == {}
    fail(email.id, "421 4.3.2 try later")
    status = live(client, url, since=cursor)["parts"]["email-status"]
    assert 'data-state="failed"' in status and "421 4.3.2 try later" in status


def test_outbox_rows_have_buttons_that_say_what_they_do(login, claim_id, broker):
    pm = login(PM, DEMO_PASSWORD)
    for subject in ("Broken", "Waiting"):
        compose(pm, claim_id, to=contact_id("olivia@owner.example"), subject=subject)
    broken, waiting = db.session.scalars(sa.select(Communication).order_by(Communication.id))
    fail(broken.id)
    admin = login(ADMIN, DEMO_PASSWORD)
    page = admin.get("/admin/outbox/").get_data(as_text=True)
    assert page.count(f'action="/admin/outbox/retry/{broken.id}"') == 1
    assert f'action="/admin/outbox/retry/{waiting.id}"' not in page  # only a failed one
    assert f'action="/admin/outbox/cancel/{waiting.id}"' in page
    assert "Send “Broken” again? It goes back in the queue now and is sent to Olivia Owner" in page
    queued = "this email will not be sent. It is queued, so nothing has gone out yet."
    assert f"Cancel “Waiting”: {queued}" in page
    failed = "this email will not be sent. It failed and will not be tried again."
    assert f"Cancel “Broken”: {failed}" in page
    assert "onclick" not in page.split('id="outbox-buttons', 1)[1].split("</tr>", 1)[0]

    token = csrf_token_from(page)
    back = "/admin/outbox/?flt0_state_equals=failed"
    response = admin.post(
        f"/admin/outbox/retry/{broken.id}", data={"csrf_token": token, "url": back}
    )
    assert response.status_code == 302 and response.location.endswith(back)
    response = admin.post(
        f"/admin/outbox/cancel/{waiting.id}", data={"csrf_token": token, "url": "//evil.example"}
    )
    assert response.location.endswith("/admin/outbox/")  # only back to the Outbox
    db.session.expire_all()
    assert (broken.state, waiting.state) == ("queued", "cancelled")
    # Acting on an email that has moved on changes nothing, and says so.
    admin.post(f"/admin/outbox/cancel/{waiting.id}", data={"csrf_token": token})
    assert "is cancelled now, so it was left as it is" in admin.get("/admin/outbox/").get_data(
        as_text=True
    )
    # Someone who administers no project has no Outbox (and so no rows to act on).
    assert pm.get("/admin/outbox/").status_code == 403
    pm_token = csrf_token_from(pm.get("/account/password").get_data(as_text=True))
    response = pm.post(f"/admin/outbox/retry/{broken.id}", data={"csrf_token": pm_token})
    assert response.status_code == 403


def test_outbox_rows_follow_their_email(login, claim_id, broker):
    compose(login(PM, DEMO_PASSWORD), claim_id, to=contact_id("olivia@owner.example"))
    email = db.session.scalar(sa.select(Communication))
    admin = login(ADMIN, DEMO_PASSWORD)
    page = admin.get("/admin/outbox/").get_data(as_text=True)
    assert f'id="outbox-state-{email.id}" data-live-email="{email.id}"' in page
    cursor = page.split('data-live-cursor="', 1)[1].split('"', 1)[0]
    assert live(admin, "/admin/outbox/live", since=cursor, ids=str(email.id))["parts"] == {}
    fail(email.id)
    parts = live(admin, "/admin/outbox/live", since=cursor, ids=f"{email.id},x,99999")["parts"]
    assert set(parts) == {
        f"outbox-recipients-{email.id}",
        f"outbox-state-{email.id}",
        f"outbox-last_error-{email.id}",
        f"outbox-buttons-{email.id}",
    }
    assert "failed" in parts[f"outbox-state-{email.id}"]
    assert f"/admin/outbox/retry/{email.id}" in parts[f"outbox-buttons-{email.id}"]
    # Someone who administers no project learns nothing about its emails: no Outbox at all.
    refused = login(PM, DEMO_PASSWORD).get("/admin/outbox/live", query_string={"ids": email.id})
    assert refused.status_code == 403 and "outbox-" not in refused.get_data(as_text=True)
