"""Django admin for the sync engine's models."""

from sync.admin_connections import ConnectionAdmin

__all__ = ["ConnectionAdmin"]
