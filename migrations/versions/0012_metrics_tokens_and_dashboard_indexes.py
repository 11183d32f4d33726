"""metrics-only API tokens; indexes for the dashboard's time-bounded queries

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-01 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    # A scrape token (`claimpost create-token --metrics`) belongs to no user.
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=20), server_default="api", nullable=False)
        )
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
    # Sent per hour / per day, and latency: events and emails by time.
    op.create_index("ix_email_event_state_at", "email_event", ["state", "at"])
    op.create_index("ix_communication_sent_at", "communication", ["sent_at"])


def downgrade():
    op.drop_index("ix_communication_sent_at", table_name="communication")
    op.drop_index("ix_email_event_state_at", table_name="email_event")
    op.execute("DELETE FROM api_token WHERE user_id IS NULL")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("scope")
