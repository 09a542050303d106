"""brand isolation: a product per line (one open line per user and product), a funding source per
purchase, and the funding moves of ``huabei funding migrate``

Revision ID: 0014_funding
Revises: 0013_sweeps
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_funding"
down_revision = "0013_sweeps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ALTERs (no batch): SQLite adds a column and swaps an index in place, where rebuilding
    # credit_accounts would trip the foreign keys that point at it
    op.add_column(
        "credit_accounts",
        sa.Column("product", sa.String(length=16), server_default=sa.text("'huabei'"), nullable=False),
    )
    op.drop_index("uq_credit_accounts_one_open_per_user", table_name="credit_accounts")
    op.create_index(
        "uq_credit_accounts_one_open_per_user_product",
        "credit_accounts",
        ["user_id", "product"],
        unique=True,
        sqlite_where=sa.text("state = 'open'"),
        postgresql_where=sa.text("state = 'open'"),
    )
    op.add_column(
        "purchases",
        sa.Column("funding_source", sa.String(length=32), server_default=sa.text("'platform'"), nullable=False),
    )
    # a purchase was funded by its line's funder
    op.execute(
        "UPDATE purchases SET funding_source = (SELECT a.funding_source FROM credit_accounts a "
        "WHERE a.account_id = purchases.account_id) WHERE EXISTS (SELECT 1 FROM credit_accounts a "
        "WHERE a.account_id = purchases.account_id AND a.funding_source <> 'platform')"
    )
    op.create_table(
        "funding_migrations",
        sa.Column(
            "migration_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("partner", sa.String(length=32), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("moved", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("migration_id", name=op.f("pk_funding_migrations")),
    )
    op.create_table(
        "funding_moves",
        sa.Column("partner", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("migration_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("restriction_id", sa.BigInteger(), nullable=False),
        sa.Column("to_account_id", sa.BigInteger(), nullable=True),
        sa.Column("moved", sa.JSON(), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["credit_accounts.account_id"], name=op.f("fk_funding_moves_account_id_credit_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["migration_id"],
            ["funding_migrations.migration_id"],
            name=op.f("fk_funding_moves_migration_id_funding_migrations"),
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["credit_accounts.account_id"],
            name=op.f("fk_funding_moves_to_account_id_credit_accounts"),
        ),
        sa.PrimaryKeyConstraint("partner", "account_id", name=op.f("pk_funding_moves")),
    )


def downgrade() -> None:
    op.drop_table("funding_moves")
    op.drop_table("funding_migrations")
    op.drop_column("purchases", "funding_source")
    op.drop_index("uq_credit_accounts_one_open_per_user_product", table_name="credit_accounts")
    op.create_index(
        "uq_credit_accounts_one_open_per_user",
        "credit_accounts",
        ["user_id"],
        unique=True,
        sqlite_where=sa.text("state = 'open'"),
        postgresql_where=sa.text("state = 'open'"),
    )
    op.drop_column("credit_accounts", "product")
