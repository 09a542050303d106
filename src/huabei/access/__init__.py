"""Access control: API keys with roles, the audit log, rate limits (docs/access.md)."""
