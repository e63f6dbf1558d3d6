"""Create (or refresh) the demo's three connections, pointed at the running sandboxes.

Part of the demo wiring (DESIGN.md §4: only the demo and the benchmarks import the
sandboxes). It does what an integration admin does on a first day:

* Procore: a service account (DMSA, client credentials) for the seeded company;
* NetSuite: a new key pair, its certificate mapped to the integration on the NetSuite side
  (the sandbox's control API stands in for NetSuite's M2M setup page), the private key stored
  encrypted on the connection;
* QuickBooks: the authorization-code flow run end to end against the sandbox's authorize
  page, the realm captured from the callback, the tokens stored encrypted.

It reads the URLs and the seeded company from the file ``python -m sandboxes serve
--ids-file`` wrote.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.quickbooks import auth as qbo_auth
from connectors.tokens import with_expiry
from sandboxes.netsuite.keys import DEMO_ACCOUNT_ID
from sandboxes.netsuite.keys import DEMO_CLIENT_ID as NS_CLIENT_ID
from sandboxes.procore import DEMO_CLIENT_ID as PROCORE_CLIENT_ID
from sandboxes.procore import DEMO_CLIENT_SECRET as PROCORE_CLIENT_SECRET
from sandboxes.quickbooks import DEMO_CLIENT_ID as QBO_CLIENT_ID
from sandboxes.quickbooks import DEMO_CLIENT_SECRET as QBO_CLIENT_SECRET
from sandboxes.quickbooks import DEMO_REALM_ID
from sync.models import Connection, Kind
from sync.services.connections import ConnectionTokenStore, connection_set_secrets

NS_CERTIFICATE_ID = "erpbridge-demo"


class Command(BaseCommand):
    help = "Create the demo connections to the running sandboxes (Procore, NetSuite, QuickBooks)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--ids-file",
            default=str(Path(settings.ERPBRIDGE_DATA_DIR) / "sandbox-ids.json"),
            help="the file 'python -m sandboxes serve --ids-file' wrote",
        )
        parser.add_argument("--app-url", default="http://127.0.0.1:8000")

    def handle(self, *args, ids_file: str, app_url: str, **options):
        try:
            seeded = json.loads(Path(ids_file).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the sandboxes' ids file {ids_file}: {exc}") from exc
        urls = seeded["urls"]
        procore = self._procore(urls["procore"], str(seeded.get("procore_company_id") or ""))
        netsuite = self._netsuite(urls["netsuite"], procore)
        quickbooks = self._quickbooks(urls["quickbooks"], procore, app_url)
        for conn in (procore, netsuite, quickbooks):
            self.stdout.write(f"  connection {conn.name:<28} {conn.get_kind_display()}")

    def _upsert(self, name: str, kind: str, values: dict, procore=None) -> Connection:
        conn, _ = Connection.objects.update_or_create(
            name=name,
            defaults={"kind": kind, "settings": values, "procore_connection": procore},
        )
        return conn

    def _procore(self, url: str, company_id: str) -> Connection:
        if not company_id:
            raise CommandError("the sandboxes were started without a seeded Procore company")
        conn = self._upsert(
            "Procore (Summit Builders)",
            Kind.PROCORE,
            {
                "auth_base_url": url,
                "api_base_url": url,
                "client_id": PROCORE_CLIENT_ID,
                "company_id": company_id,
                "grant": "client_credentials",
            },
        )
        return connection_set_secrets(
            connection=conn, secrets={"client_secret": PROCORE_CLIENT_SECRET}
        )

    def _netsuite(self, url: str, procore: Connection) -> Connection:
        conn = self._upsert(
            "NetSuite (OneWorld)",
            Kind.NETSUITE,
            {
                "account_id": DEMO_ACCOUNT_ID,
                "base_url": url,
                "auth_method": "m2m",
                "client_id": NS_CLIENT_ID,
                "certificate_id": NS_CERTIFICATE_ID,
            },
            procore,
        )
        private_pem = conn.secrets.get("private_key_pem")
        if not private_pem:
            key = ec.generate_private_key(ec.SECP256R1())
            private_pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
            connection_set_secrets(connection=conn, secrets={"private_key_pem": private_pem})
        public_pem = (
            serialization.load_pem_private_key(private_pem.encode(), password=None)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        # The admin's step on the NetSuite side: map the certificate to the integration.
        response = httpx.post(
            f"{url}/_sandbox/netsuite/certificates",
            json={
                "client_id": NS_CLIENT_ID,
                "certificate_id": NS_CERTIFICATE_ID,
                "public_key_pem": public_pem,
            },
            timeout=10,
        )
        response.raise_for_status()
        return conn

    def _quickbooks(self, url: str, procore: Connection, app_url: str) -> Connection:
        redirect_uri = f"{app_url.rstrip('/')}/connections/quickbooks/callback"
        conn = self._upsert(
            "QuickBooks (Small Works)",
            Kind.QUICKBOOKS,
            {
                "auth_url": f"{url}/connect/oauth2",
                "token_url": f"{url}/oauth2/v1/tokens/bearer",
                "revoke_url": f"{url}/v2/oauth2/tokens/revoke",
                "api_base_url": url,
                "client_id": QBO_CLIENT_ID,
                "realm_id": DEMO_REALM_ID,
                "redirect_uri": redirect_uri,
            },
            procore,
        )
        connection_set_secrets(connection=conn, secrets={"client_secret": QBO_CLIENT_SECRET})
        httpx.post(
            f"{url}/_sandbox/quickbooks/apps",
            json={
                "client_id": QBO_CLIENT_ID,
                "client_secret": QBO_CLIENT_SECRET,
                "redirect_uris": [redirect_uri],
            },
            timeout=10,
        ).raise_for_status()
        if conn.token:
            return conn
        # The "Connect QuickBooks" click, without a browser: follow the authorize page's
        # redirect back to our callback URL and trade the code for tokens.
        values = conn.client_settings()
        state = secrets.token_urlsafe(24)
        authorize = httpx.get(qbo_auth.authorization_url(values, state), timeout=10)
        if authorize.status_code != 302:
            raise CommandError(f"QuickBooks sandbox did not redirect: {authorize.status_code}")
        callback = qbo_auth.parse_callback(urlsplit(authorize.headers["location"]).query, state)
        token = qbo_auth.exchange_code(values, callback)
        store = ConnectionTokenStore(conn.pk)
        with store.locked():
            token = {k: v for k, v in token.items() if k != "realm_id"}
            store.save(with_expiry(token, time.time()))
        return conn
