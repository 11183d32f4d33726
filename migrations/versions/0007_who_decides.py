"""who may decide, sessions that end, times we can trust

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("side", sa.String(length=20), server_default="client", nullable=False)
        )
        batch_op.add_column(
            sa.Column("may_approve", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_site_operator", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sender_authenticated", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("read_as", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("undecided_reason", sa.Text(), server_default="", nullable=False)
        )
    with op.batch_alter_table("claim_decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_by", sa.String(length=200), nullable=True))

    # The contractor's own people, as the old rule knew them (its logins, or directory entries
    # under its company name), are on the contractor's side; everyone else stays "client" and
    # decides only if they are a contract's client contact (or an admin marks them).
    op.execute(
        """
        UPDATE contact SET side = 'contractor'
        WHERE EXISTS (
            SELECT 1 FROM project JOIN company ON company.id = project.company_id
            WHERE project.id = contact.project_id AND (
                lower(trim(contact.company)) = lower(trim(company.name))
                OR EXISTS (SELECT 1 FROM user_account
                           WHERE user_account.company_id = company.id
                             AND lower(user_account.email) = contact.email)))
        """
    )
    # Replies used to carry the sender's Date as their time: keep it as "dated", and take
    # the time we received the message, which we always recorded.
    op.execute("UPDATE reply SET dated_at = received_at, read_as = decision")
    op.execute(
        "UPDATE reply SET received_at = (SELECT inbound_message.received_at FROM inbound_message"
        " WHERE inbound_message.id = reply.inbound_id)"
    )
    # An installation of one company keeps triaging all of its unmatched mail.
    op.execute(
        "UPDATE user_account SET is_site_operator = is_admin"
        " WHERE (SELECT count(*) FROM company) = 1"
    )


def downgrade():
    op.execute("UPDATE reply SET received_at = dated_at WHERE dated_at IS NOT NULL")
    with op.batch_alter_table("claim_decision", schema=None) as batch_op:
        batch_op.drop_column("confirmed_by")
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_column("undecided_reason")
        batch_op.drop_column("read_as")
        batch_op.drop_column("sender_authenticated")
        batch_op.drop_column("dated_at")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_version")
        batch_op.drop_column("is_site_operator")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_column("may_approve")
        batch_op.drop_column("side")
