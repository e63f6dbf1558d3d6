"""OAuth token keeping shared by the connectors: refresh before expiry, once, under a lock.

Procore and QuickBooks rotate refresh tokens: each refresh returns a new refresh token and kills
the old one, "even if the response is lost" (Procore). Two workers refreshing at once would burn
the token, so a refresh always goes *lock → re-read → refresh only if still needed → save → unlock*
(the product's store holds a row lock on the Connection; :class:`MemoryTokenStore` a thread lock).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from .errors import AuthError

Token = dict[str, Any]


class TokenStore(Protocol):
    def load(self) -> Token | None:
        """The newest saved token (no lock)."""

    def locked(self) -> Any:
        """Context manager: take the store's lock and yield the token read under it."""

    def save(self, token: Token) -> None:
        """Persist ``token``; called while :meth:`locked` is held."""

    def mark_needs_reauth(self, reason: str) -> None:
        """The grant is dead (revoked, rotated away): a person must reconnect."""


class MemoryTokenStore:
    """A token store in memory: one process, tests, and scripts."""

    def __init__(self, token: Token | None = None) -> None:
        self.token = dict(token) if token else None
        self.needs_reauth: str | None = None
        self.saves = 0
        self._lock = threading.RLock()

    def load(self) -> Token | None:
        return dict(self.token) if self.token else None

    @contextmanager
    def locked(self) -> Iterator[Token | None]:
        with self._lock:
            yield self.load()

    def save(self, token: Token) -> None:
        self.token = dict(token)
        self.saves += 1

    def mark_needs_reauth(self, reason: str) -> None:
        self.needs_reauth = reason


def with_expiry(token: Token, now: float) -> Token:
    """Stamp ``expires_at`` (epoch seconds) from ``expires_in``, which may come as a string."""
    token = dict(token)
    if "expires_in" in token and token["expires_in"] not in (None, ""):
        token["expires_at"] = now + float(token["expires_in"])
    return token


class TokenManager:
    """Hands out a valid access token; refreshes ``leeway`` seconds before it expires.

    ``fetch(current)`` obtains a new token: a refresh-token grant when ``current`` has a refresh
    token, otherwise the system's own grant (client credentials, a signed JWT assertion). It
    raises :class:`AuthError` when the grant is dead; the manager then marks the store as needing
    re-authorisation so admins see it, instead of trying again and again.
    """

    def __init__(
        self,
        store: TokenStore,
        fetch: Callable[[Token | None], Token],
        *,
        leeway: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.fetch = fetch
        self.leeway = leeway
        self.clock = clock
        self.refreshes = 0
        # The token last seen, so a request does not read (and decrypt) the store each time;
        # the store is read again when it is about to expire, after ``recheck`` seconds, or
        # when the server refused it (``refresh(rejected=…)`` always goes to the store).
        self.recheck = 30.0
        self._seen: Token | None = None
        self._seen_at = 0.0

    def _fresh(self, token: Token | None) -> bool:
        if not token or not token.get("access_token"):
            return False
        expires_at = token.get("expires_at")
        return expires_at is None or float(expires_at) - self.leeway > self.clock()

    def access_token(self) -> str:
        now = self.clock()
        seen = self._seen
        if seen is not None and now - self._seen_at < self.recheck and self._fresh(seen):
            return seen["access_token"]
        token = self.store.load()
        if self._fresh(token):
            self._seen, self._seen_at = token, now
            return token["access_token"]  # type: ignore[index]
        return self.refresh()["access_token"]

    def refresh(self, *, rejected: str | None = None) -> Token:
        """Get a new token unless another worker already did.

        ``rejected`` is an access token the server just refused with 401: refresh even if it
        looks fresh, but not if the stored token is already a different (newer) one.
        """
        self._seen = None
        with self.store.locked() as current:
            if self._fresh(current) and (rejected is None or current["access_token"] != rejected):
                self._seen, self._seen_at = current, self.clock()
                return current  # type: ignore[return-value]
            try:
                token = self.fetch(current)
            except AuthError as exc:
                self.store.mark_needs_reauth(str(exc))
                raise
            token = with_expiry(token, self.clock())
            if current and not token.get("refresh_token") and current.get("refresh_token"):
                # Some grants answer without a new refresh token; keep the one we have.
                token["refresh_token"] = current["refresh_token"]
            self.store.save(token)
            self.refreshes += 1
            self._seen, self._seen_at = token, self.clock()
            return token
