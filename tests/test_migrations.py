"""Migrations carry existing data forward, not only new installs."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from web.extensions import db


def test_companies_from_before_time_zones_get_their_dictionarys_zone(app):
    with app.app_context():
        downgrade(revision="0003")
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO company (name, terminology, decisions_move_status) VALUES "
                        "('Old AU Builder', 'en-AU', false), ('Old US Builder', 'en-US', false)"
                    )
                )
        finally:
            upgrade()
        with db.engine.connect() as conn:
            zones = dict(conn.execute(sa.text("SELECT name, time_zone FROM company")).all())
    assert zones == {"Old AU Builder": "Australia/Sydney", "Old US Builder": "America/New_York"}


def test_companies_from_before_profiles_get_their_dictionarys_currency_and_tax(app):
    with app.app_context():
        downgrade(revision="0007")
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "INSERT INTO company (name, terminology, decisions_move_status) VALUES "
                        "('Old AU Builder', 'en-AU', false), ('Old GB Builder', 'en-GB', false),"
                        " ('Old US Builder', 'en-US-specialty', false)"
                    )
                )
        finally:
            upgrade()
        with db.engine.connect() as conn:
            money = {
                name: (currency, tax, f"{rate:.3f}")
                for name, currency, tax, rate in conn.execute(
                    sa.text("SELECT name, currency, tax_name, tax_rate_pct FROM company")
                )
            }
    assert money == {
        "Old AU Builder": ("AUD", "GST", "10.000"),
        "Old GB Builder": ("GBP", "VAT", "20.000"),
        "Old US Builder": ("USD", "", "0.000"),
    }


def test_on_sqlite_an_emails_bodies_are_the_last_columns_of_its_row(app, demo, broker):
    """SQLite reaches a column stored after a large value only through that value's overflow
    pages: `kind` and `sent_at`, read by every visibility check and the dashboard, come before
    the 100 KB snapshot. The rebuild (0022) keeps every email and what points at it."""
    from models import Communication, ProgressClaim, Recipient, User
    from models.compose import Draft
    from web.emails import send_claim_email

    if db.engine.dialect.name != "sqlite":
        return  # PostgreSQL keeps large values out of line (TOAST): 0022 does nothing there
    with app.app_context():
        claim_id = demo["projects"][0]["head_contracts"][0]["claims"][0]["id"]
        sender = db.session.scalar(sa.select(User).where(User.is_admin))
        email = send_claim_email(
            db.session.get(ProgressClaim, claim_id), sender, Draft(to=["olivia@owner.example"])
        )
        email.html_body = "<p>claim</p>" * 5000
        db.session.commit()
        email_id = email.id
        db.session.remove()
        downgrade(revision="0021")
        upgrade()  # 0022 rebuilds the table with an email and its recipients in it
        with db.engine.connect() as conn:
            columns = [row[1] for row in conn.execute(sa.text("PRAGMA table_info(communication)"))]
            assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert columns[-4:] == ["html_body", "text_body", "figures_json", "headers_text"]
        assert columns.index("kind") < columns.index("html_body")
        kept = db.session.get(Communication, email_id)
        assert kept.html_body.count("<p>claim</p>") == 5000
        assert [r.email for r in kept.recipients] == ["olivia@owner.example"]
        assert db.session.scalar(sa.select(sa.func.count(Recipient.id))) == 1
