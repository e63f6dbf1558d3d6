"""NetSuite SuiteTalk REST client (OAuth 2.0 M2M or TBA; records, SuiteQL, eid upserts)."""

from .auth import ClientAssertion, TbaAuth
from .client import NetSuiteClient, Written, default_limiter, validate_credentials

Client = NetSuiteClient

__all__ = [
    "Client",
    "ClientAssertion",
    "NetSuiteClient",
    "TbaAuth",
    "Written",
    "default_limiter",
    "validate_credentials",
]
