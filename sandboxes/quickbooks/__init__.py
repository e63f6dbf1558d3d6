"""QuickBooks Online Accounting API v3 sandbox (see ``app.QuickBooksSandbox``)."""

from .app import QuickBooksSandbox
from .constants import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_COMPANY_NAME,
    DEMO_REALM_ID,
    DEMO_REDIRECT_URI,
    DEMO_VERIFIER_TOKEN,
)
from .webhooks import sign as sign_webhook
from .webhooks import verify as verify_webhook

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DEMO_COMPANY_NAME",
    "DEMO_REALM_ID",
    "DEMO_REDIRECT_URI",
    "DEMO_VERIFIER_TOKEN",
    "QuickBooksSandbox",
    "sign_webhook",
    "verify_webhook",
]
