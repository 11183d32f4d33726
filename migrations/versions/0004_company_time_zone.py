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


def upgrade():
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
