"""Request-level security helpers: the client's address, and sign-in throttling.

Sign-in throttling counts failed attempts per (username, client IP) in the cache, which is
Redis or a database table (never process memory), so every web worker sees the same counts.
After ``ERPBRIDGE_LOGIN_MAX_FAILURES`` failures the pair is refused for
``ERPBRIDGE_LOGIN_LOCKOUT_SECONDS`` counted from the first failure, even with the right
password; a successful sign-in clears the count. Keying on the pair (not the username alone)
means an attacker cannot lock a colleague out from elsewhere.
"""

from __future__ import annotations

import hashlib
import math
import time

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or with ERPBRIDGE_TRUSTED_PROXY_HOPS = n, the address n hops back in
    X-Forwarded-For (the entries our own proxies appended; anything left of them is what the
    client claimed and is not trusted)."""
    hops = getattr(settings, "ERPBRIDGE_TRUSTED_PROXY_HOPS", 0)
    remote = request.META.get("REMOTE_ADDR") or None
    if hops:
        chain = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [p for p in chain if p]
        if len(chain) >= hops:
            return chain[-hops]
    return remote


def _keys(username: str, ip: str | None) -> tuple[str, str]:
    digest = hashlib.sha256(f"{username.strip().lower()}\0{ip or ''}".encode()).hexdigest()
    return f"login-fail:{digest}", f"login-until:{digest}"


def login_locked_for(username: str, ip: str | None) -> int:
    """Seconds until this pair may try again (0 = not locked)."""
    count_key, until_key = _keys(username, ip)
    count = cache.get(count_key) or 0
    if count < settings.ERPBRIDGE_LOGIN_MAX_FAILURES:
        return 0
    until = cache.get(until_key) or 0
    return max(0, math.ceil(until - time.time()))


def login_failed(username: str, ip: str | None) -> None:
    count_key, until_key = _keys(username, ip)
    window = settings.ERPBRIDGE_LOGIN_LOCKOUT_SECONDS
    cache.add(until_key, time.time() + window, window)
    if cache.add(count_key, 1, window):
        return
    try:
        cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.add(count_key, 1, window)


def login_succeeded(username: str, ip: str | None) -> None:
    cache.delete_many(list(_keys(username, ip)))


class ThrottledLoginMixin:
    """For Django's AuthenticationForm: refuse a locked (username, IP) pair before checking
    the password, count each failure."""

    throttled = False

    def clean(self):
        username = self.data.get("username", "") if self.data else ""
        ip = client_ip(self.request) if self.request is not None else None
        wait = login_locked_for(username, ip) if username else 0
        if wait:
            self.throttled = True
            minutes = max(1, math.ceil(wait / 60))
            raise forms.ValidationError(
                "Too many failed sign-in attempts for this username from your network. "
                f"Try again in {minutes} minute{'s' if minutes != 1 else ''}, or ask an "
                "administrator to reset your password.",
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                login_failed(username, ip)
            raise
        login_succeeded(username, ip)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
