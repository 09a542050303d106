"""scorecard promotions: the challenger put in force, who, when, the comparison it won

Revision ID: 0017_scorecard_activations
Revises: 0016_staff_users
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_scorecard_activations"
down_revision = "0016_staff_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scorecard_activations",
        sa.Column(
            "activation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("activation_id", name=op.f("pk_scorecard_activations")),
    )


def downgrade() -> None:
    op.drop_table("scorecard_activations")
