"""the client's page: one-time codes, web answers, payment schedules, claim events

Revision ID: 0013
Revises: 0007
Create Date: 2026-12-01 13:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "one_time_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("communication_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_email_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["communication_id"],
            ["communication.id"],
            name=op.f("fk_one_time_code_communication_id_communication"),
        ),
        sa.ForeignKeyConstraint(
            ["code_email_id"],
            ["communication.id"],
            name=op.f("fk_one_time_code_code_email_id_communication"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_code")),
    )
    with op.batch_alter_table("one_time_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_one_time_code_communication_id"), ["communication_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_one_time_code_address"), ["address"], unique=False)

    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered_email_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_communication_answered_email_id_communication"),
            "communication",
            ["answered_email_id"],
            ["id"],
        )
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("via", sa.String(length=10), server_default="email", nullable=False)
        )
        batch_op.add_column(sa.Column("one_time_code_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("scheduled_amount", sa.Numeric(precision=14, scale=2), nullable=True)
        )
        batch_op.alter_column("inbound_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_reply_one_time_code_id_one_time_code"),
            "one_time_code",
            ["one_time_code_id"],
            ["id"],
        )

    op.create_table(
        "reply_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reply_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=80), nullable=False),
        sa.Column("claimed", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("scheduled", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reply_id"], ["reply.id"], name=op.f("fk_reply_line_reply_id_reply")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_line")),
    )
    with op.batch_alter_table("reply_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reply_line_reply_id"), ["reply_id"], unique=False)

    with op.batch_alter_table("claim_decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scheduled_amount", sa.Numeric(precision=14, scale=2), nullable=True)
        )
    with op.batch_alter_table("progress_claim", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("certified_amount", sa.Numeric(precision=14, scale=2), nullable=True)
        )

    op.create_table(
        "claim_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["progress_claim.id"], name=op.f("fk_claim_event_claim_id_progress_claim")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_event")),
    )
    with op.batch_alter_table("claim_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_event_claim_id"), ["claim_id"], unique=False)


def downgrade():
    op.drop_table("claim_event")
    with op.batch_alter_table("progress_claim", schema=None) as batch_op:
        batch_op.drop_column("certified_amount")
    with op.batch_alter_table("claim_decision", schema=None) as batch_op:
        batch_op.drop_column("scheduled_amount")
    op.drop_table("reply_line")
    op.execute("DELETE FROM reply WHERE inbound_id IS NULL")  # web answers have no message
    with op.batch_alter_table("reply", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_reply_one_time_code_id_one_time_code"), type_="foreignkey"
        )
        batch_op.alter_column("inbound_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("scheduled_amount")
        batch_op.drop_column("one_time_code_id")
        batch_op.drop_column("via")
    op.drop_table("one_time_code")
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_communication_answered_email_id_communication"), type_="foreignkey"
        )
        batch_op.drop_column("answered_email_id")
