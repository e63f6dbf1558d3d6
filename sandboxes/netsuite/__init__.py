"""Offline NetSuite SuiteTalk REST (record service, SuiteQL, OAuth 2.0 M2M and TBA).

Reference: ../shared/reference/netsuite-api.md. ``NetSuiteSandbox().handle`` is an
``httpx.MockTransport`` handler; ``seed.load(sandbox, company)`` writes a neutral company.
"""

from .app import NetSuiteSandbox
from .events import SECRET_HEADER
from .keys import (
    DEMO_ACCOUNT_ID,
    DEMO_CERTIFICATE_ID,
    DEMO_CLIENT_ID,
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    DEMO_TOKEN_ID,
    DEMO_TOKEN_SECRET,
    demo_private_key_pem,
    make_client_assertion,
    tba_header,
    token_url,
)

__all__ = [
    "DEMO_ACCOUNT_ID",
    "DEMO_CERTIFICATE_ID",
    "DEMO_CLIENT_ID",
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "DEMO_TOKEN_ID",
    "DEMO_TOKEN_SECRET",
    "SECRET_HEADER",
    "NetSuiteSandbox",
    "demo_private_key_pem",
    "make_client_assertion",
    "tba_header",
    "token_url",
]
