"""The day of a project manager and an operator, in headless Chromium against `claimpost dev`:
log in, open the demo claim, check its figures, compose with the type-ahead, attach, send, see
it reach `sent` and its rejection come back without a reload; privacy; script injection."""

import re

import pytest
import sqlalchemy as sa

from models import BillingPermission, Communication, Contact, ProgressClaim, ProjectMember, User
from tests.browser.conftest import chromium_missing
from tests.browser.steps import (
    ADMIN,
    PASSWORD,
    amount,
    compose,
    demo_claim,
    email_row,
    expect,
    log_in,
    no_script_ran,
    open_claim,
    stays_unreloaded,
    still_the_same_page,
)

pytestmark = pytest.mark.skipif(
    chromium_missing() is not None, reason=f"browser tests skipped: {chromium_missing()}"
)

READER, READER_PASSWORD = "fiona@harbourside.example", "fiona-reads-only"
# A name and a reply that would run a script if anything drew them as HTML.
INJECTED_NAME = 'Ava <img src=x onerror="window.__injected=1">'
INJECTED_REPLY = '<script>window.__injected=2</script><img src=x onerror="window.__injected=3">'


def test_a_claim_goes_out_and_its_rejection_comes_back_without_a_reload(
    dev, new_page, shot, tmp_path
):
    claim = demo_claim(dev)
    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    shot(page, "home")

    page.click(f'a[href*="details/?id={claim.id}"]')
    expect()(page.locator("h1")).to_contain_text("#3")
    shot(page, "claim-detail")
    # Every figure of the summary as the money rules compute it.
    with dev.session() as session:
        summary = session.get(ProgressClaim, claim.id).figures().summary
    cells = page.locator("#claim-summary td[data-field]")
    assert cells.count() >= 10
    for i in range(cells.count()):
        cell = cells.nth(i)
        field = cell.get_attribute("data-field")
        assert amount(cell.inner_text()) == getattr(summary, field), field

    page.click('a.nav-link[href="#emails"]')
    stat_dec = tmp_path / "Stat-Dec.pdf"
    stat_dec.write_bytes(b"%PDF-1.4\n% statutory declaration\n")
    compose(
        page,
        to=("oliv", "Olivia Owner"),
        cc=("sam", "Sam Superintendent"),
        bcc=("quentin", "Quentin Surveyor"),
        subject="October claim for approval",
        message="Dear Olivia,\nplease find our October claim.",
        attach=stat_dec,
    )
    shot(page, "compose")
    page.click('button[type="submit"]:has-text("Send")')

    banner = page.locator(".alert-warning", has_text="Communication Created")
    expect()(banner).to_be_visible()
    colour = banner.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(255, 243, 205)"  # Bootstrap's yellow warning
    row = email_row(page, "October claim for approval")
    expect()(row).to_contain_text("Stat-Dec.pdf")
    shot(page, "banner")
    stays_unreloaded(page)
    expect()(row.locator("[data-state]")).to_have_attribute("data-state", "sent", timeout=30_000)
    assert still_the_same_page(page)
    shot(page, "sent-without-reload")

    mailbox = page.context.new_page()
    mailbox.goto(dev.url + "/admin/mailbox/")
    mailbox.click("text=October claim for approval")
    html = mailbox.frame_locator('iframe[title="HTML part"]')
    expect()(html.locator("body")).to_contain_text("please find our October claim")
    expect()(mailbox.locator("body")).to_contain_text("Stat-Dec.pdf")
    shot(mailbox, "mailbox-as-the-client-sees-it")

    mailbox.select_option('select[name="sender"]', "olivia@owner.example")
    mailbox.select_option('select[name="answer"]', "reject")
    mailbox.fill('input[name="text"]', "item 7 over-claimed")
    mailbox.click("text=Reply as recipient")
    expect()(mailbox.locator(".alert-success")).to_contain_text("Replied as olivia@owner.example")
    shot(mailbox, "replied-as-olivia")

    decision = page.locator("#claim-decisions")
    expect()(decision).to_contain_text("Rejected in writing by Olivia Owner", timeout=30_000)
    expect()(decision).to_contain_text("item 7 over-claimed")
    expect()(row.locator("[data-state]")).to_have_attribute("data-state", "replied")
    expect()(page.locator("#claim-email-rows tr.reply")).to_contain_text(
        "Rejected: item 7 over-claimed"
    )
    assert still_the_same_page(page)
    shot(page, "rejection-without-reload")


def test_a_read_only_user_does_not_see_a_private_email(dev, new_page, shot):
    claim = demo_claim(dev)
    with dev.session() as session:
        company_id = session.scalar(sa.select(User.company_id).where(User.email == ADMIN))
        project_id = session.get(ProgressClaim, claim.id).head_contract.project_id
        reader = User(company_id=company_id, email=READER, name="Fiona Finance")
        reader.set_password(READER_PASSWORD)
        session.add(reader)
        session.flush()
        session.add(
            ProjectMember(
                project_id=project_id,
                user_id=reader.id,
                permission=BillingPermission.READ_ONLY,
            )
        )
        session.commit()

    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    open_claim(page, dev, claim.id, tab="emails")
    compose(
        page,
        to=("oliv", "Olivia Owner"),
        subject="Private: retention query",
        message="Only for Olivia.",
        private=True,
    )
    page.click('button[type="submit"]:has-text("Send")')
    compose(
        page,
        to=("oliv", "Olivia Owner"),
        subject="Open: site photos",
        message="For everyone on the project.",
    )
    page.click('button[type="submit"]:has-text("Send")')
    expect()(email_row(page, "Private: retention query")).to_contain_text("Private")
    shot(page, "admin-sees-both")

    with dev.session() as session:
        private_id = session.scalar(
            sa.select(Communication.id).where(Communication.subject == "Private: retention query")
        )
    reader_page = new_page()
    log_in(reader_page, dev, READER, READER_PASSWORD)
    open_claim(reader_page, dev, claim.id, tab="emails")
    expect()(email_row(reader_page, "Open: site photos")).to_be_visible()
    expect()(reader_page.locator("#claim-emails")).not_to_contain_text("retention query")
    shot(reader_page, "read-only-user")
    response = reader_page.goto(f"{dev.url}/admin/claims/{claim.id}/emails/{private_id}")
    assert response.status == 404


def test_a_script_in_a_directory_name_or_a_reply_does_not_run(dev, new_page, shot):
    claim = demo_claim(dev)
    with dev.session() as session:
        ava = session.scalar(sa.select(Contact).where(Contact.email == "ava@architects.example"))
    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    page.goto(f"{dev.url}/admin/directory/edit/?id={ava.id}")
    page.fill('input[name="name"]', INJECTED_NAME)
    page.click('input[type="submit"][value="Save"], button:has-text("Save")')
    expect()(page.locator("body")).to_contain_text("<img src=x")
    assert no_script_ran(page)
    shot(page, "directory-name")

    open_claim(page, dev, claim.id, tab="emails")
    compose(
        page,
        to=("architects", "Ava <img"),
        subject="For the architect",
        message="Drawings attached.",
    )
    assert no_script_ran(page)
    shot(page, "compose-with-the-name")
    page.click('button[type="submit"]:has-text("Send")')
    row = email_row(page, "For the architect")
    expect()(row).to_contain_text("TO: Ava <img")
    expect()(row.locator("[data-state]")).to_have_attribute("data-state", "sent", timeout=30_000)

    mailbox = page.context.new_page()
    mailbox.goto(dev.url + "/admin/mailbox/")
    mailbox.click("text=For the architect")
    mailbox.select_option('select[name="answer"]', "free")
    mailbox.fill('input[name="text"]', INJECTED_REPLY)
    mailbox.click("text=Reply as recipient")
    expect()(mailbox.locator(".alert-success")).to_be_visible()
    assert no_script_ran(mailbox)

    # The reply arrives on the open claim page through the live update, as text.
    reply = page.locator("#claim-email-rows tr.reply", has_text="window.__injected=2")
    expect()(reply).to_contain_text(INJECTED_REPLY, timeout=30_000)
    assert no_script_ran(page)
    shot(page, "reply-shown-as-text")
    with dev.session() as session:
        email_id = session.scalar(
            sa.select(Communication.id).where(Communication.subject == "For the architect")
        )
    page.goto(f"{dev.url}/admin/claims/{claim.id}/emails/{email_id}")
    expect()(page.locator("#email-status")).to_contain_text(INJECTED_REPLY)
    assert no_script_ran(page)
    shot(page, "email-page")


def test_home_is_a_dashboard_drawn_by_the_served_chart_library(dev, new_page, shot):
    page = new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    log_in(page, dev, ADMIN, PASSWORD)
    expect()(page.locator("#dashboard")).to_be_visible()
    for chart in ("#sent-per-hour", "#sent-per-day"):
        # The scripts run once the page has loaded: wait for the chart, not a fixed time.
        page.wait_for_function(
            "id => window.Chart && window.Chart.getChart(document.querySelector(id))", arg=chart
        )
    sent = int(page.locator('#emails-by-state tr[data-state="sent"] td').inner_text())
    replied = int(page.locator('#emails-by-state tr[data-state="replied"] td').inner_text())
    assert sent + replied >= 1  # what the other tests of this module sent
    hourly = page.locator("#sent-per-hour").evaluate(
        "c => window.Chart.getChart(c).data.datasets[0].data.reduce((a, b) => a + b, 0)"
    )
    assert hourly >= sent + replied
    # Nothing came from anywhere but this server (no CDN).
    assert all(url.startswith(dev.url) for url in requests)
    shot(page, "dashboard")
    page.click("#emails-by-state a >> nth=0")
    expect()(page).to_have_url(re.compile(r"/admin/outbox/\?flt0_state_equals="))
