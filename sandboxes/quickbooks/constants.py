"""Demo credentials and ids shared by the demo, the tests and the seed (not secrets)."""

DEMO_CLIENT_ID = "ABsandboxErpbridgeDemoClient0000000000000000000"
DEMO_CLIENT_SECRET = "sandbox-demo-secret-4f0c2a"  # noqa: S105 - demo only
DEMO_REDIRECT_URI = "http://127.0.0.1:8000/connections/quickbooks/callback"
DEMO_REALM_ID = "9341453050298467"
DEMO_COMPANY_NAME = "Summit Builders (QuickBooks)"
DEMO_VERIFIER_TOKEN = "5f0b6c7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f"  # noqa: S105
