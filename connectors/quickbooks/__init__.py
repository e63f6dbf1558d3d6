"""QuickBooks Online connector: OAuth (auth.py), the API client (client.py), typed entities
(schemas.py), the fault classifier (errors.py) and the query builder (query.py)."""

from .client import (
    BatchOp,
    BatchResult,
    CdcResult,
    QuickBooksClient,
    default_batch_limiter,
    default_limiter,
    request_id,
)

Client = QuickBooksClient

__all__ = [
    "BatchOp",
    "BatchResult",
    "CdcResult",
    "Client",
    "QuickBooksClient",
    "default_batch_limiter",
    "default_limiter",
    "request_id",
]
