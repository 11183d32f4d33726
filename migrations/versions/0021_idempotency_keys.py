"""API clients' Idempotency-Key on the emails they create

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 15:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            "uq_communication_idempotency", ["sender_id", "idempotency_key"]
        )


def downgrade():
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.drop_constraint("uq_communication_idempotency", type_="unique")
        batch_op.drop_column("idempotency_key")
