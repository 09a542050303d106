"""Maintenance windows (系统维护): when purchases pause, for whom, and who said so."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, String, Table, Text

from huabei.platform.tables import TS, Id, metadata

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("window_id", Id, primary_key=True, autoincrement=True),
    # real timestamps, stored in UTC
    Column("starts_at", TS, nullable=False),
    Column("ends_at", TS, nullable=False),
    Column("reason", Text, nullable=False),
    Column("scope", String(16), nullable=False),
    # the channel (scope channel) or funding source (scope funding); NULL for everyone
    Column("target", String(32), nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("cancelled_at", TS, nullable=True),
    Column("cancelled_by", String(64), nullable=True),
    Column("cancel_reason", Text, nullable=True),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    CheckConstraint("scope IN ('everyone', 'channel', 'funding')", name="scope_known"),
)
Index("ix_maintenance_windows_ends", maintenance_windows.c.ends_at)
