"""The Procore REST API sandbox (reference: ../shared/reference/procore-api.md)."""

from .app import ProcoreSandbox
from .auth import (
    ACCESS_TOKEN_TTL,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    DEMO_USER_ID,
    OOB_REDIRECT_URI,
)

__all__ = [
    "ACCESS_TOKEN_TTL",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_REDIRECT_URI",
    "DEMO_USER_ID",
    "OOB_REDIRECT_URI",
    "ProcoreSandbox",
]
