"""API token writes: create (the only moment the secret exists in clear), revoke, touch."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from api.models import ApiToken
from audit.services import audit_record

TOKEN_START = "erpb_"  # noqa: S105  (a public marker, not a secret)
# last_used_at is written at most this often per token, not on every request.
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # the full secret: show it once, never store it


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    """(prefix, key) of a well-formed token, else None."""
    if not key.startswith(TOKEN_START):
        return None
    prefix, sep, rest = key[len(TOKEN_START) :].partition("_")
    if not sep or len(prefix) != 12 or len(rest) < 32:
        return None
    return prefix, key


def api_token_create(*, user, name: str, created_by, expires_at=None) -> IssuedToken:
    """A new token for ``user``. Only a superuser may create one for a superuser (a token
    acts as its user, so this would otherwise be a way to borrow more rights)."""
    if user.is_superuser and not getattr(created_by, "is_superuser", False):
        raise PermissionDenied("Only a superuser may create a token for a superuser.")
    if not user.is_active:
        raise PermissionDenied("The user is inactive.")
    prefix = secrets.token_hex(6)
    key = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name.strip()[:100] or "API token",
            prefix=prefix,
            key_hash=token_hash(key),
            created_by=created_by if getattr(created_by, "pk", None) else None,
            expires_at=expires_at,
        )
        audit_record(
            actor=created_by,
            action="api_token.create",
            target=token,
            after={"user": user.get_username(), "name": token.name, "prefix": prefix},
        )
    return IssuedToken(token=token, key=key)


def api_token_revoke(*, token: ApiToken, actor) -> bool:
    """Revoke; True if it was active. The row stays (who had which token, and when)."""
    now = timezone.now()
    with transaction.atomic():
        moved = (
            ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
                revoked_at=now, revoked_by=actor if getattr(actor, "pk", None) else None
            )
            == 1
        )
        if moved:
            audit_record(
                actor=actor,
                action="api_token.revoke",
                target=token,
                before={"revoked_at": None},
                after={"revoked_at": now},
            )
    return moved


def api_token_authenticate(key: str) -> ApiToken | None:
    """The active token for ``key`` (compared in constant time), its last use noted."""
    parts = split_key(key)
    if parts is None:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[0]).first()
    if token is None or not hmac.compare_digest(token.key_hash, token_hash(key)):
        return None
    if not token.active:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at < now - TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
