"""The operator's screens in headless Chromium against `claimpost dev` (issue 10): menus by
role and the app's own Forbidden page, status badges in their colours, triaging an unmatched
reply from the Inbound page, a form that stays on its tab, and the Outbox at 1366 px."""

import email.utils
import hashlib
import hmac
import re
import time
import urllib.request
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from models import (
    BillingPermission,
    Communication,
    InboundMessage,
    ProgressClaim,
    ProjectMember,
    User,
)
from models.communication import move
from tests.browser.conftest import DevServer, chromium_missing
from tests.browser.steps import (
    ADMIN,
    PASSWORD,
    compose,
    demo_claim,
    email_row,
    expect,
    log_in,
    open_claim,
)

pytestmark = pytest.mark.skipif(
    chromium_missing() is not None, reason=f"browser tests skipped: {chromium_missing()}"
)

WEBHOOK_SECRET = "operator-screens-webhook"
READER, READER_PASSWORD = "rita@harbourside.example", "rita-reads-only"
# Bootstrap 4's badge colours.
GREEN, GREY, BLUE = "rgb(40, 167, 69)", "rgb(108, 117, 125)", "rgb(23, 162, 184)"


@pytest.fixture(scope="module")
def dev(browser, tmp_path_factory):
    """`claimpost dev` with the inbound webhook on, to receive mail that matches nothing."""
    server = DevServer(
        "operator_screens",
        tmp_path_factory.mktemp("dev"),
        INBOUND_WEBHOOK_SECRET=WEBHOOK_SECRET,
    )
    yield server
    server.stop()


def wait_until(condition, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def post_to_webhook(dev, raw: bytes) -> None:
    stamp = str(int(time.time()))
    signature = hmac.new(
        WEBHOOK_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256
    ).hexdigest()
    request = urllib.request.Request(
        dev.url + "/inbound/mime",
        data=raw,
        headers={
            "Content-Type": "message/rfc822",
            "X-ClaimPost-Timestamp": stamp,
            "X-ClaimPost-Signature": signature,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def badge_colour(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def test_badges_have_one_colour_each_and_a_form_stays_on_its_tab(dev, new_page, shot):
    claim = demo_claim(dev)
    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    projects = page.locator("table", has_text="HC-1")
    expect()(projects.locator(".badge", has_text="Approved").first).to_be_visible()
    assert badge_colour(projects.locator(".badge", has_text="Approved").first) == GREEN
    assert badge_colour(projects.locator(".badge", has_text="Draft")) == GREY
    caption = projects.locator("caption")
    assert caption.bounding_box()["y"] < projects.locator("thead").bounding_box()["y"]
    shot(page, "home-badges")

    open_claim(page, dev, claim.id)
    assert badge_colour(page.locator("#claim-status .badge")) == GREY
    page.click('a.nav-link[href="#emails"]')
    expect()(page).to_have_url(re.compile(r"tab=emails"))
    page.click("text=Mark Under review")
    expect()(page.locator(".alert-success")).to_contain_text("is now Under review")
    expect()(page.locator("#emails")).to_have_class(re.compile(r"\bactive\b"))
    expect()(page.locator("#claim-status .badge")).to_have_text("Under review")
    assert badge_colour(page.locator("#claim-status .badge")) == BLUE
    shot(page, "stays-on-the-emails-tab")


def test_an_unmatched_reply_is_triaged_and_assigned_from_the_inbound_page(dev, new_page, shot):
    claim = demo_claim(dev)
    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    open_claim(page, dev, claim.id, tab="emails")
    compose(page, to=("oliv", "Olivia Owner"), subject="November claim", message="Our claim.")
    page.click('button[type="submit"]:has-text("Send")')
    row = email_row(page, "November claim")
    expect()(row.locator("[data-state]")).to_have_attribute("data-state", "sent", timeout=30_000)

    # Olivia answers from a new message: no reply address of ours, no Message-ID of ours.
    answer = EmailMessage()
    answer["From"] = "Olivia Owner <olivia@owner.example>"
    answer["To"] = "accounts@harbourside.example"
    answer["Subject"] = "Re: November claim"
    answer["Message-ID"] = "<olivia-1@owner.example>"
    answer["Date"] = email.utils.formatdate()
    answer.set_content("Approved.\n\nOlivia\n<b>not bold</b>\n")
    post_to_webhook(dev, bytes(answer))

    def unmatched():
        with dev.session() as session:
            return session.scalar(
                sa.select(InboundMessage.id).where(InboundMessage.status == "unmatched")
            )

    message_id = wait_until(unmatched, "the answer to be left unmatched")
    page.goto(dev.url + "/admin/")
    expect()(page.locator("#unmatched-count")).to_have_text("1")
    page.click("#unmatched-count a")
    expect()(page.locator("table.model-list")).to_contain_text("Matched no email")
    expect()(page.locator(".filters .remove-filter")).to_contain_text("Status")
    shot(page, "inbound-unmatched")
    page.click(f'a[href*="/admin/inbound/details/?id={message_id}"]')

    expect()(page.locator("#why-unmatched")).to_contain_text("none is one of our reply addresses")
    expect()(page.locator("#inbound-text")).to_contain_text("<b>not bold</b>")  # as text
    expect()(page.locator("#inbound-headers")).to_contain_text("olivia-1@owner.example")
    candidate = page.locator("#candidates tbody tr", has_text="November claim")
    expect()(candidate).to_contain_text("sent to this sender")
    expect()(candidate).to_contain_text("same subject")
    expect()(candidate.locator('input[type="radio"]')).to_be_checked()
    page.fill("#candidate-search", "HC-1")
    page.click('#assign button:has-text("Search")')
    expect()(page.locator("#candidates")).to_contain_text("November claim")
    expect()(page.locator("#candidate-search")).to_have_value("HC-1")
    page.set_viewport_size({"width": 1366, "height": 1100})
    shot(page, "inbound-triage")

    page.click("text=Assign to the chosen email")
    expect()(page.locator(".alert-success")).to_contain_text(
        "The message from olivia@owner.example is now a reply to “November claim”"
    )
    expect()(page.locator("#inbound-status")).to_have_text("A reply to one of our emails")
    shot(page, "inbound-assigned")
    open_claim(page, dev, claim.id, tab="emails")
    expect()(page.locator("#claim-email-rows tr.reply")).to_contain_text("Approved.")


def test_a_read_only_user_sees_only_what_they_may_use_and_the_apps_forbidden_page(
    dev, new_page, shot
):
    claim = demo_claim(dev)
    with dev.session() as session:
        company_id = session.scalar(sa.select(User.company_id).where(User.email == ADMIN))
        reader = User(company_id=company_id, email=READER, name="Rita Reader")
        reader.set_password(READER_PASSWORD)
        session.add(reader)
        session.flush()
        project_id = session.get(ProgressClaim, claim.id).head_contract.project_id
        session.add(
            ProjectMember(
                project_id=project_id, user_id=reader.id, permission=BillingPermission.READ_ONLY
            )
        )
        session.commit()

    admin = new_page()
    log_in(admin, dev, ADMIN, PASSWORD)
    navbar = admin.locator("nav.navbar")
    for menu in ("Operators", "Settings"):
        expect()(navbar).to_contain_text(menu)
    admin.click("nav.navbar >> text=Operators")
    expect()(admin.locator('nav.navbar a[href="/admin/outbox/"]')).to_be_visible()
    shot(admin, "admin-menu")

    page = new_page()
    log_in(page, dev, READER, READER_PASSWORD)
    navbar = page.locator("nav.navbar")
    expect()(navbar).to_contain_text("Claims")
    for hidden in ("Operators", "Settings", "Outbox", "Members"):
        expect()(navbar).not_to_contain_text(hidden)
    shot(page, "read-only-menu")

    page.click('nav.navbar a[href="/admin/directory/"]')
    expect()(page.locator("table.model-list")).to_contain_text("olivia@owner.example")
    expect()(page.locator('a[href*="/admin/directory/new/"]')).to_have_count(0)
    expect()(page.locator('a[href*="/admin/directory/edit/"]')).to_have_count(0)
    shot(page, "read-only-directory")

    response = page.goto(dev.url + "/admin/outbox/")
    assert response.status == 403
    expect()(page.locator("#error-page")).to_contain_text("This page is not for you")
    expect()(page.locator("nav.navbar")).to_contain_text("Claims")  # the app's own layout
    shot(page, "forbidden")
    page.click("#error-page >> text=Home")
    expect()(page).to_have_url(re.compile(r"/admin/$"))

    response = page.goto(dev.url + "/admin/claims/details/?id=999999")
    assert response.status == 404
    expect()(page.locator("#error-page")).to_contain_text("Nothing here")
    shot(page, "not-found")


def test_the_outbox_at_1366_pixels_shows_every_column(dev, new_page, shot):
    with dev.session() as session:
        email_id = session.scalar(sa.select(Communication.id).order_by(Communication.id))
        error = (
            "The mail server smtp.example.com refused the message for every recipient: 554 "
            "5.7.1 Relaying denied; check the address, then Retry."
        )
        assert move(session, email_id, {"sent", "replied"}, "failed", last_error=error)
        session.commit()
    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    page.goto(dev.url + "/admin/outbox/?flt0_state_equals=failed")
    table = page.locator("table.model-list")
    expect()(table).to_contain_text("November claim")
    for heading in ("Last error", "Created", "State"):
        box = table.locator("th", has_text=heading).bounding_box()
        assert box["x"] + box["width"] <= 1366, heading
    retry = page.locator(f'form[action="/admin/outbox/retry/{email_id}"] button')
    box = retry.bounding_box()
    assert box["x"] + box["width"] <= 1366
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # nothing cut off
    shot(page, "outbox-failed-1366")
