"""eod jobs: a long end-of-day run started over HTTP, kept in the database so it can be followed
after a restart (interrupted, with the days it did) and cancelled between days

Revision ID: 0020_eod_jobs
Revises: 0019_eod_quarantine_retry
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_eod_jobs"
down_revision = "0019_eod_quarantine_retry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eod_jobs",
        sa.Column("run", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("days_total", sa.Integer(), nullable=False),
        sa.Column("days_done", sa.Integer(), nullable=False),
        sa.Column("last_completed", sa.Date(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("run", name=op.f("pk_eod_jobs")),
    )
    op.create_index("ix_eod_jobs_status", "eod_jobs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_eod_jobs_status", table_name="eod_jobs")
    op.drop_table("eod_jobs")
