"""Procore client (reference: ../shared/reference/procore-api.md)."""

from .auth import AuthorizationRequest, authorization_url, exchange_code, revoke
from .client import ProcoreClient, default_limiter
from .writes import Origin

Client = ProcoreClient

__all__ = [
    "AuthorizationRequest",
    "Client",
    "Origin",
    "ProcoreClient",
    "authorization_url",
    "default_limiter",
    "exchange_code",
    "revoke",
]
