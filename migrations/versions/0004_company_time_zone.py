"""company time zone

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 10:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Existing companies get their dictionary's usual zone, as new ones do (fixed here, not
# imported from the app: a migration must keep meaning what it meant when it was written).
USUAL_ZONES = {
    "en-US": "America/New_York",
    "en-US-specialty": "America/New_York",
    "en-AU": "Australia/Sydney",
    "en-GB": "Europe/London",
}


def upgrade():
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )
    company = sa.table("company", sa.column("terminology"), sa.column("time_zone"))
    for terminology, zone in USUAL_ZONES.items():
        op.execute(
            company.update().where(company.c.terminology == terminology).values(time_zone=zone)
        )


def downgrade():
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
