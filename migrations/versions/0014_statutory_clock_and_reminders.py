"""the statutory clock: contract periods, reminder settings, reminders, threads

Revision ID: 0014
Revises: 0009
Create Date: 2026-12-02 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("head_contract", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payment_schedule_business_days", sa.Integer(), nullable=True)
        )
        batch_op.add_column(sa.Column("payment_due_business_days", sa.Integer(), nullable=True))
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminder_days", sa.String(length=40), server_default="3,0", nullable=False)
        )
    with op.batch_alter_table("progress_claim", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders_off", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follows_email_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_communication_follows_email_id_communication"),
            "communication",
            ["follows_email_id"],
            ["id"],
        )
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("deadline_kind", sa.String(length=30), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("original_email_id", sa.Integer(), nullable=False),
        sa.Column("communication_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["progress_claim.id"], name=op.f("fk_reminder_claim_id_progress_claim")
        ),
        sa.ForeignKeyConstraint(
            ["original_email_id"],
            ["communication.id"],
            name=op.f("fk_reminder_original_email_id_communication"),
        ),
        sa.ForeignKeyConstraint(
            ["communication_id"],
            ["communication.id"],
            name=op.f("fk_reminder_communication_id_communication"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder")),
        sa.UniqueConstraint(
            "claim_id", "deadline_kind", "due", "days_before", name=op.f("uq_reminder_claim_id")
        ),
    )
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_claim_id"), ["claim_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reminder_communication_id"), ["communication_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("reminder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_communication_id"))
        batch_op.drop_index(batch_op.f("ix_reminder_claim_id"))
    op.drop_table("reminder")
    with op.batch_alter_table("communication", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_communication_follows_email_id_communication"), type_="foreignkey"
        )
        batch_op.drop_column("follows_email_id")
    with op.batch_alter_table("progress_claim", schema=None) as batch_op:
        batch_op.drop_column("reminders_off")
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_column("reminder_days")
    with op.batch_alter_table("head_contract", schema=None) as batch_op:
        batch_op.drop_column("payment_due_business_days")
        batch_op.drop_column("payment_schedule_business_days")
