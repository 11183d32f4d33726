"""recipients marked rejected for a fault of ours are pending again

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 14:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    # Recipients marked rejected for a fault of ours (a missing file, a server never reached):
    # no server replied to them, so they were refused by nobody. A server's refusal always
    # left its reply (a code first) in smtp_reply, or before 0009 in detail.
    op.execute(
        "UPDATE recipient SET status = 'pending', detail = '' WHERE status = 'rejected' "
        "AND smtp_reply IS NULL AND (detail IS NULL OR substr(detail, 1, 1) NOT IN "
        "('1', '2', '3', '4', '5', '6', '7', '8', '9'))"
    )


def downgrade():
    pass  # nothing to undo: those recipients were never refused by a server
