"""company profile, contract jurisdiction, generated attachments

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-02 09:00:00

"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0010"
branch_labels = None
depends_on = None


# Existing companies get their dictionary's currency and tax, as new ones do (fixed here, not
# imported from the app: a migration must keep meaning what it meant when it was written).
USUAL_MONEY = {
    "en-US": ("USD", "", Decimal("0")),
    "en-US-specialty": ("USD", "", Decimal("0")),
    "en-AU": ("AUD", "GST", Decimal("10")),
    "en-GB": ("GBP", "VAT", Decimal("20")),
}


def upgrade():
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("legal_name", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "registration_number", sa.String(length=40), server_default="", nullable=False
            )
        )
        batch_op.add_column(sa.Column("address", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("phone", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("accounts_email", sa.String(length=254), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("logo_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("currency", sa.String(length=3), server_default="AUD", nullable=False)
        )
        batch_op.add_column(
            sa.Column("tax_name", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "tax_rate_pct",
                sa.Numeric(precision=6, scale=3),
                server_default="0",
                nullable=False,
            )
        )
    company = sa.table(
        "company",
        sa.column("terminology", sa.String),
        sa.column("currency", sa.String),
        sa.column("tax_name", sa.String),
        sa.column("tax_rate_pct", sa.Numeric(6, 3)),
    )
    for terminology, (currency, tax_name, rate) in USUAL_MONEY.items():
        op.execute(
            company.update()
            .where(company.c.terminology == terminology)
            .values(currency=currency, tax_name=tax_name, tax_rate_pct=rate)
        )
    with op.batch_alter_table("head_contract", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("jurisdiction", sa.String(length=10), server_default="none", nullable=False)
        )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("generated", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("generated")
    with op.batch_alter_table("head_contract", schema=None) as batch_op:
        batch_op.drop_column("jurisdiction")
    with op.batch_alter_table("company", schema=None) as batch_op:
        for column in (
            "tax_rate_pct",
            "tax_name",
            "currency",
            "logo_sha256",
            "accounts_email",
            "phone",
            "address",
            "registration_number",
            "legal_name",
        ):
            batch_op.drop_column(column)
