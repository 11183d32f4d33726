"""Steps the browser tests share: logging in, opening a claim, composing with the type-ahead,
and telling whether the page reloaded or ran an injected script."""

import re
from decimal import Decimal

import sqlalchemy as sa

from models import ProgressClaim

ADMIN, PASSWORD = "admin@harbourside.example", "claimpost-demo"


def expect():
    from playwright.sync_api import expect

    return expect


def log_in(page, dev, email: str, password: str) -> None:
    page.goto(dev.url + "/login")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', password)
    page.click('button[type="submit"], input[type="submit"]')
    expect()(page).to_have_url(re.compile(r"/admin/?$"))
    # The URL changes before the page's scripts run: a menu clicked then does not open
    # (Bootstrap's dropdown is not yet attached; seen failing in CI).
    page.wait_for_load_state("load")


def amount(text: str) -> Decimal:
    """A figure as a page shows it ('$1,234.50', '-850.00', '(850.00)') as a Decimal."""
    negative = "-" in text or "(" in text
    value = Decimal(re.sub(r"[^0-9.]", "", text))
    return -value if negative else value


def demo_claim(dev) -> ProgressClaim:
    with dev.session() as session:
        claim = session.scalar(sa.select(ProgressClaim).where(ProgressClaim.number == 3))
        session.expunge(claim)
        return claim


def open_claim(page, dev, claim_id: int, tab: str = "detail") -> None:
    page.goto(f"{dev.url}/admin/claims/details/?id={claim_id}&tab={tab}")


def pick(page, field: int, search: str, name: str) -> None:
    """Type into the recipient list's search box and click the one person it leaves."""
    picker = page.locator(".recipient-picker").nth(field)
    picker.locator('input[type="search"]').fill(search)
    visible = picker.locator("option:not([hidden]):not(:checked)")  # the chosen stay shown
    expect()(visible).to_have_count(1)
    expect()(visible).to_contain_text(name)
    visible.click()
    expect()(picker.locator(".chosen")).to_contain_text(name)


def compose(
    page,
    *,
    to: tuple[str, str],
    subject: str,
    message: str,
    cc=None,
    bcc=None,
    attach=None,
    private=False,
) -> None:
    page.click("text=Compose Email")
    pick(page, 0, *to)
    if cc:
        pick(page, 1, *cc)
    if bcc:
        pick(page, 2, *bcc)
    if private:
        page.check('input[name="private"]')
    page.fill('input[name="subject"]', subject)
    page.fill('textarea[name="message"]', message)
    if attach:
        page.set_input_files('input[type="file"]', str(attach))


def email_row(page, subject: str):
    return page.locator("#claim-email-rows tr[data-email]", has_text=subject)


def stays_unreloaded(page) -> None:
    """Mark the page; a reload would lose the mark (checked by still_the_same_page)."""
    page.evaluate("window.__sameDocument = 'yes'")


def still_the_same_page(page) -> bool:
    return page.evaluate("window.__sameDocument") == "yes"


def no_script_ran(page) -> bool:
    return page.evaluate("typeof window.__injected") == "undefined"
