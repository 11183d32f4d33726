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
