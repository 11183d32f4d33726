"""The claim email in a real browser (Debian's Chromium, driven by Playwright): on a 375 px
phone it fits without sideways scrolling (fewer columns; the PDF has them all), and on a
desktop the wider table shows. Uses the browser tests' one Chromium (tests/browser/conftest.py),
skipped, saying so, where Chromium is not installed."""

import pytest
import sqlalchemy as sa

from models import ProgressClaim, User
from models.compose import Draft, compose_email
from web.emails import file_store, mail_settings
from web.extensions import db
from workers.render import render


@pytest.fixture
def email_html(demo) -> str:
    """The demo's claim 3 email as rendered for sending."""
    claim = db.session.get(
        ProgressClaim, demo["projects"][0]["head_contracts"][0]["claims"][2]["id"]
    )
    sender = db.session.scalar(sa.select(User).where(User.email == "priya.pm@harbourside.example"))
    email = compose_email(
        db.session,
        claim,
        sender,
        Draft(to=["olivia@owner.example"], message="Hi Olivia,\nOur October claim."),
        mail_settings(),
        file_store(),
    )
    db.session.flush()
    html = render(email, file_store())["html_body"]
    db.session.rollback()
    return html


def visible_headers(page) -> list[str]:
    return page.eval_on_selector_all(
        "table.lines th",
        "cells => cells.filter(c => c.offsetParent !== null).map(c => c.innerText)",
    )


def test_on_a_375_px_phone_the_email_needs_no_sideways_scrolling(browser, email_html):
    page = browser.new_page(viewport={"width": 375, "height": 812})
    page.set_content(email_html)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert visible_headers(page) == [
        "Item",
        "Description",
        "This claim",
        "Claimed to date",
        "% complete",
    ]
    button = page.get_by_role("link", name="Review and respond")
    box = button.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    page.close()


def test_on_a_desktop_the_email_shows_the_wider_table(browser, email_html):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_content(email_html)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1100
    assert visible_headers(page) == [
        "Item",
        "Description",
        "Contract value",
        "Previously claimed",
        "This claim",
        "Materials on site",
        "Claimed to date",
        "% complete",
    ]
    page.close()
