"""a covering index for the dashboard's counts over every visible email; recipients by the
time their server accepted the claim (the statutory clocks' recent service)

Revision ID: 0020
Revises: 0016
Create Date: 2026-12-01 13:40:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = ["claim_id", "kind", "state", "private", "sender_id", "sent_at", "created_at"]


def upgrade():
    op.create_index("ix_communication_dashboard", "communication", COLUMNS)
    op.create_index("ix_recipient_accepted_at", "recipient", ["accepted_at"])


def downgrade():
    op.drop_index("ix_recipient_accepted_at", table_name="recipient")
    op.drop_index("ix_communication_dashboard", table_name="communication")
