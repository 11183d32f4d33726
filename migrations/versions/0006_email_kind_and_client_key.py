"""email kind and client key

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="claim", nullable=False)
        )
        batch_op.add_column(sa.Column("client_key", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_communication_client_key"), ["client_key"])


def downgrade():
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_communication_client_key"), type_="unique")
        batch_op.drop_column("client_key")
        batch_op.drop_column("kind")
