"""failures in words (kind and facts on emails and their history), cancel requests

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 14:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_kind", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("failure_facts", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("cancel_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("email_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failure_kind", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("failure_facts", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("email_event", schema=None) as batch_op:
        batch_op.drop_column("failure_facts")
        batch_op.drop_column("failure_kind")
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.drop_column("cancel_requested_at")
        batch_op.drop_column("failure_facts")
        batch_op.drop_column("failure_kind")
