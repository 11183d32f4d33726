"""the delivery record (the bytes as sent, the server's reply per recipient), and an index
for every filter and lookup of the Outbox and Inbound lists

Revision ID: 0009
Revises: 0012
Create Date: 2026-12-02 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0012"
branch_labels = None
depends_on = None

# The Outbox filters by state (indexed already), project, created_at and private and searches
# recipients; the Inbound list filters by status (indexed already), via, match_method and
# received_at, and shows each message's email.
INDEXES = [
    ("communication", "created_at"),
    ("communication", "private"),
    ("recipient", "email"),
    ("inbound_message", "via"),
    ("inbound_message", "match_method"),
    ("inbound_message", "received_at"),
    ("inbound_message", "communication_id"),
]


def upgrade():
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("raw_sha256", sa.String(length=64), nullable=True))
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        batch_op.add_column(sa.Column("smtp_reply", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("queue_id", sa.String(length=100), nullable=True))
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def downgrade():
    for table, column in INDEXES:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
    with op.batch_alter_table("recipient", schema=None) as batch_op:
        batch_op.drop_column("queue_id")
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("smtp_reply")
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.drop_column("raw_sha256")
