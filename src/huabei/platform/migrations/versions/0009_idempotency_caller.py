"""idempotency keys belong to their caller: rows keyed by operation move to the public caller

Until now a key's row was scoped by operation (``purchase``, ``refund``, ``repayment``,
``installment``, ``early_repayment``), so one key could move money once per operation. Now the
row is keyed by (caller, key) and the request hash covers the operation. Each key stored so far
moves to the public caller (its earliest row when a key was reused across operations; the later
ones stay under their operation and are never matched again), so a retry of a request made
before the upgrade still replays its answer.

Revision ID: 0009_idempotency_caller
Revises: 0008_risk_inputs
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_idempotency_caller"
down_revision = "0008_risk_inputs"
branch_labels = None
depends_on = None

PUBLIC_CALLER = "public"
OPERATIONS = ("purchase", "refund", "repayment", "installment", "early_repayment")
BATCH = 5000


def upgrade() -> None:
    conn = op.get_bind()
    keys = sa.table(
        "idempotency_keys", sa.column("scope", sa.String), sa.column("key", sa.String), sa.column("created_at")
    )
    taken = set(conn.execute(sa.select(keys.c.key).where(keys.c.scope == PUBLIC_CALLER)).scalars())
    rows = conn.execute(
        sa.select(keys.c.scope, keys.c.key)
        .where(keys.c.scope.in_(OPERATIONS))
        .order_by(keys.c.created_at, keys.c.scope, keys.c.key)
    ).all()
    moves = []
    for scope, key in rows:
        if key not in taken:
            taken.add(key)
            moves.append({"old_scope": scope, "k": key})
    stmt = (
        sa.update(keys)
        .where(keys.c.scope == sa.bindparam("old_scope"), keys.c.key == sa.bindparam("k"))
        .values(scope=PUBLIC_CALLER)
    )
    for i in range(0, len(moves), BATCH):
        conn.execute(stmt, moves[i : i + BATCH])


def downgrade() -> None:
    """No schema change to undo; the rows stay with the public caller (the old code does not
    find them under their operation: a retry across a downgrade is not replayed)."""
