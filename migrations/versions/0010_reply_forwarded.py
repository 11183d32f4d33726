"""reply forwarded: the message a reply forwarded, kept apart from the sender's own words

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-02 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forwarded", sa.Text(), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_column("forwarded")
