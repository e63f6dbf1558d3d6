"""ERP adapters: the writer's one interface over the NetSuite and QuickBooks connectors."""

from __future__ import annotations

from typing import Any

from sync.erp.base import ErpAdapter, Remote, Written
from sync.erp.netsuite import NetSuiteAdapter
from sync.erp.quickbooks import QuickBooksAdapter
from sync.models import Kind


def adapter_for(kind: str, client: Any) -> ErpAdapter:
    if kind == Kind.NETSUITE:
        return NetSuiteAdapter(client)
    if kind == Kind.QUICKBOOKS:
        return QuickBooksAdapter(client)
    raise ValueError(f"no ERP adapter for {kind!r}")


__all__ = ["ErpAdapter", "NetSuiteAdapter", "QuickBooksAdapter", "Remote", "Written", "adapter_for"]
