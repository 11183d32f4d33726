"""A mail server that refuses, seen in headless Chromium: the claim page shows the failure
without a reload, the email's page says what the server said, and the Outbox's Retry button
(confirmed in words) sends it once the server takes mail again. The Outbox fits 1366 pixels."""

import hashlib

import pytest
import sqlalchemy as sa

from models import Communication
from models.storage import FileStore
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
    stays_unreloaded,
    still_the_same_page,
)
from tests.mail import SmtpServer

pytestmark = pytest.mark.skipif(
    chromium_missing() is not None, reason=f"browser tests skipped: {chromium_missing()}"
)

REFUSAL = "554 5.7.1 Relay access denied"


@pytest.fixture(scope="module")
def smtp():
    """The company's mail server, which the test can make refuse mail."""
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture(scope="module")
def dev(browser, smtp, tmp_path_factory):
    """`claimpost dev` sending through that server (SMTP_URL), not its own catcher."""
    server = DevServer("failed_send", tmp_path_factory.mktemp("dev"), SMTP_URL=smtp.url)
    yield server
    server.stop()


def test_a_failed_send_says_why_and_retry_sends_it(dev, smtp, new_page, shot):
    smtp.handler.rcpt_reply = REFUSAL
    claim = demo_claim(dev)
    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    open_claim(page, dev, claim.id, tab="emails")
    compose(page, to=("oliv", "Olivia Owner"), subject="Claim 3, refused", message="Hello.")
    page.click('button[type="submit"]:has-text("Send")')
    stays_unreloaded(page)
    row = email_row(page, "Claim 3, refused")
    expect()(row.locator("[data-state]")).to_have_attribute("data-state", "failed", timeout=30_000)
    assert still_the_same_page(page)
    expect()(row.locator(".email-failure")).to_contain_text(
        f"The mail server refused this email, saying “{REFUSAL}”."
    )
    shot(page, "failed-on-the-claim")

    row.locator("a", has_text="Claim 3, refused").click()
    expect()(page.locator("#email-last-error")).to_contain_text(REFUSAL)
    shot(page, "email-page-says-why")

    smtp.handler.rcpt_reply = None  # the server takes mail again
    page.goto(dev.url + "/admin/outbox/")
    with dev.session() as session:
        email_id = session.scalar(
            sa.select(Communication.id).where(Communication.subject == "Claim 3, refused")
        )
    # Every column, the last one included, is on screen at 1366 pixels: nothing to scroll.
    table = page.locator("table.model-list")
    fits = table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    created = page.locator("table.model-list th", has_text="Created").bounding_box()
    assert fits and created["x"] + created["width"] <= 1366
    shot(page, "outbox-at-1366")

    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.click(f'form[action="/admin/outbox/retry/{email_id}"] button')
    expect()(page.locator(".alert-success")).to_contain_text("Re-queued “Claim 3, refused”")
    assert asked == [
        "Send “Claim 3, refused” again? It goes back in the queue now and is sent to Olivia "
        "Owner, Alex Admin, with a fresh count of attempts."
    ]
    stays_unreloaded(page)
    state = page.locator(f"#outbox-state-{email_id}")
    expect()(state).to_contain_text("sent", timeout=30_000)
    assert still_the_same_page(page)
    expect()(page.locator(f'form[action="/admin/outbox/retry/{email_id}"]')).to_have_count(0)
    expect()(page.locator(f"#outbox-recipients-{email_id}")).not_to_contain_text("rejected")
    shot(page, "outbox-retried-and-sent")
    delivered = [m for m in smtp.received if m.message["Subject"] == "Claim 3, refused"]
    assert len(delivered) == 1


STAT_DEC = b"%PDF-1.4\n% a statutory declaration for the browser test\n"


def test_a_missing_attachment_says_so_and_retry_from_the_claim_sends_it(
    dev, smtp, new_page, shot, tmp_path
):
    """Our fault, not the server's: the claim's Emails tab says which file is missing and
    what to do, without a reload, marks no recipient rejected, and its own Retry button
    sends the email once the file is back in storage."""
    smtp.handler.rcpt_reply = None
    upload = tmp_path / "Stat-Dec.pdf"
    upload.write_bytes(STAT_DEC)
    stored = FileStore(dev.instance / "files").path(hashlib.sha256(STAT_DEC).hexdigest())
    claim = demo_claim(dev)
    page = new_page()
    log_in(page, dev, ADMIN, PASSWORD)
    open_claim(page, dev, claim.id, tab="emails")
    compose(
        page,
        to=("oliv", "Olivia Owner"),
        subject="Claim 3, with its stat dec",
        message="Hello.",
        attach=upload,
    )
    with dev.worker_paused():  # the email waits in the queue while its file goes missing,
        page.click('button[type="submit"]:has-text("Send")')
        stays_unreloaded(page)
        row = email_row(page, "Claim 3, with its stat dec")
        stored.unlink()  # as when a worker's STORAGE_DIR lacks what the web process stored
    expect()(row.locator("[data-state]")).to_have_attribute("data-state", "failed", timeout=30_000)
    expect()(row.locator(".email-failure")).to_contain_text(
        "The attachment Stat-Dec.pdf is missing from storage; attach it again and Retry."
    )
    assert still_the_same_page(page)
    expect()(row.locator("[data-recipient-status]")).to_have_count(0)  # nobody refused it
    expect()(row).not_to_contain_text("rejected")
    expect()(row.locator(".failure-detail code")).to_be_hidden()  # the detail: behind Details
    row.locator(".email-failure summary").click()
    expect()(row.locator(".failure-detail code")).to_contain_text(str(stored))
    shot(page, "failed-email-in-words")

    stored.write_bytes(STAT_DEC)  # attaching it again puts the same bytes in the same place
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.locator("button", has_text="Retry").click()
    expect()(page.locator(".alert-success")).to_contain_text(
        "Re-queued “Claim 3, with its stat dec”"
    )
    assert asked == [
        "Send “Claim 3, with its stat dec” again? It goes back in the queue now and is sent to "
        "Olivia Owner, Alex Admin, with a fresh count of attempts."
    ]
    assert "tab=emails" in page.url and "/admin/claims/details/" in page.url  # back on the claim
    stays_unreloaded(page)
    row = email_row(page, "Claim 3, with its stat dec")
    expect()(row.locator("[data-state]")).to_have_attribute("data-state", "sent", timeout=30_000)
    assert still_the_same_page(page)
    expect()(row.locator("button", has_text="Retry")).to_have_count(0)
    expect()(row.locator(".email-failure")).to_have_count(0)
    shot(page, "retry-from-claim")
    delivered = [m for m in smtp.received if m.message["Subject"] == "Claim 3, with its stat dec"]
    assert len(delivered) == 1
    [attachment, _pdf] = list(delivered[0].message.iter_attachments())
    assert attachment.get_content() == STAT_DEC
