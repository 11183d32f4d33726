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
