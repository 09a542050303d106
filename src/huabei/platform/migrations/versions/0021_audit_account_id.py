"""the audit log names the line a row is about (``account_id``) and who acted (``actor``: a key's
``role:key_id``, or the operator at the command line)

Revision ID: 0021_audit_account_id
Revises: 0020_eod_jobs
Create Date: 2026-11-29
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0021_audit_account_id"
down_revision = "0020_eod_jobs"
branch_labels = None
depends_on = None

_LINE_PATH = re.compile(r"^/(?:v1/)?accounts/(\d{1,18})(?:/|$)")


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("account_id", sa.BigInteger(), nullable=True))
    op.add_column("audit_log", sa.Column("actor", sa.String(length=64), nullable=True))
    op.create_index("ix_audit_log_account", "audit_log", ["account_id", "audit_id"])
    # rows written before: the line their path names, and the key's role:id as the actor
    conn = op.get_bind()
    audit = sa.table(
        "audit_log",
        sa.column("audit_id", sa.BigInteger()),
        sa.column("path", sa.String()),
        sa.column("account_id", sa.BigInteger()),
    )
    rows = conn.execute(sa.select(audit.c.audit_id, audit.c.path).where(audit.c.path.like("%accounts/%"))).all()
    for audit_id, path in rows:
        m = _LINE_PATH.match(path or "")
        if m is not None:
            conn.execute(sa.update(audit).where(audit.c.audit_id == audit_id).values(account_id=int(m.group(1))))
    op.execute(
        "UPDATE audit_log SET actor = role || ':' || CAST(key_id AS VARCHAR(20)) "
        "WHERE key_id IS NOT NULL AND role IS NOT NULL"
    )
    op.execute("UPDATE audit_log SET actor = role WHERE key_id IS NULL AND method = 'CLI'")


def downgrade() -> None:
    op.drop_index("ix_audit_log_account", table_name="audit_log")
    op.drop_column("audit_log", "actor")
    op.drop_column("audit_log", "account_id")
