"""The statutory clock in headless Chromium against `claimpost dev` (issue 11): a claim emailed
to the client is served when the mail catcher accepts it; the claim page shows each deadline
with its date, the business days left and its basis, an overdue one in red; the dashboard
lists it; the evidence pack downloads from the claim page."""

import io
import json
import zipfile
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from models import Communication, Recipient
from models.calendars import CALENDARS
from models.deadlines import format_day
from tests.browser.conftest import ARTIFACTS, chromium_missing
from tests.browser.steps import ADMIN, PASSWORD, compose, demo_claim, email_row, expect, log_in
from tests.test_statutory_clock import nsw_working_day

pytestmark = pytest.mark.skipif(
    chromium_missing() is not None, reason=f"browser tests skipped: {chromium_missing()}"
)

SYDNEY = ZoneInfo("Australia/Sydney")
NSW = CALENDARS["AU-NSW"]
RED = "rgb(220, 53, 69)"  # Bootstrap's text-danger


def test_a_served_claim_shows_its_clock_overdue_in_red(dev, new_page, shot, tmp_path):
    claim = demo_claim(dev)
    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    page.goto(f"{dev.url}/admin/claims/details/?id={claim.id}&tab=emails")
    expect()(page.locator("#claim-served")).to_contain_text("Not served yet")
    compose(
        page,
        to=("oliv", "Olivia Owner"),
        subject="Progress claim 3 for October",
        message="Dear Olivia,\nour October claim.",
    )
    page.click('button[type="submit"]:has-text("Send")')
    row = email_row(page, "Progress claim 3 for October")
    expect()(row.locator("[data-state]")).to_have_attribute("data-state", "sent", timeout=30_000)

    # Served when the mail catcher said 250 for Olivia: the clock counts from that day.
    page.reload()
    served = page.locator("#claim-served")
    expect()(served).to_contain_text("Served ")
    expect()(served).to_contain_text("olivia@owner.example")
    with dev.session() as session:
        accepted = session.scalar(sa.select(Recipient.accepted_at).where(Recipient.kind == "to"))
    day = accepted.replace(tzinfo=ZoneInfo("UTC")).astimezone(SYDNEY).date()
    schedule = page.locator('#claim-deadlines tr[data-kind="payment_schedule"]')
    expect()(schedule).to_contain_text(
        f"10 business days after service on {format_day(day)}, Building and Construction "
        "Industry Security of Payment Act 1999 (NSW) s 14(4)(b)"
    )

    # Twelve business days ago instead: the payment schedule is 2 days overdue, payment due
    # in 3 (15 after service).
    earlier = NSW.before(nsw_working_day(), 12)
    moved = datetime.combine(earlier, time(10, 30), SYDNEY).astimezone(ZoneInfo("UTC"))
    with dev.session() as session:
        session.execute(sa.update(Recipient).values(accepted_at=moved.replace(tzinfo=None)))
        session.commit()
    page.reload()
    expect()(schedule).to_have_attribute("data-state", "overdue")
    left = schedule.locator("td").nth(2)
    expect()(left).to_contain_text("Overdue by")
    assert left.evaluate("e => getComputedStyle(e).color") == RED
    payment = page.locator('#claim-deadlines tr[data-kind="payment_due"]')
    expect()(payment).to_have_attribute("data-state", "open")
    shot(page, "claim-page")
    page.locator("#claim-clock").screenshot(path=str(ARTIFACTS / "claim-clock.png"))

    # The dashboard lists it, overdue first.
    page.goto(dev.url + "/admin/")
    listed = page.locator("#deadlines-due tr[data-kind]")
    expect()(listed.first).to_have_attribute("data-state", "overdue")
    expect()(listed.first).to_contain_text("Payment schedule")
    shot(page, "dashboard")
    page.locator("#deadlines-card").screenshot(path=str(ARTIFACTS / "dashboard-deadlines.png"))

    # The evidence pack, from the claim page's button.
    page.goto(f"{dev.url}/admin/claims/details/?id={claim.id}")
    with page.expect_download() as download:
        page.click("#evidence-pack")
    with zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        archive.extractall(tmp_path / "pack")
    with dev.session() as session:
        raw_sha256 = session.scalar(sa.select(Communication.raw_sha256))
    [eml] = [f for f in manifest["files"] if f["path"].endswith("message.eml")]
    assert eml["sha256"] == raw_sha256
    # Its index.html reads on its own, from the unpacked folder, links to the files included.
    page.goto((tmp_path / "pack" / "index.html").as_uri())
    expect()(page.locator("h1")).to_contain_text("Evidence pack: Progress Claim #3")
    expect()(page.locator("body")).to_contain_text("Missed")
    shot(page, "evidence-index")
    page.click(f'a[href="{eml["path"]}"] >> nth=0')
    shot(page, "evidence-eml-opened")
