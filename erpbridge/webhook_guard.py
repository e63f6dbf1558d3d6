"""A guard in front of every /webhooks/ endpoint: a body size limit and a rate limit per
client address, applied before any webhook view runs (so a flood or a huge body costs no
signature check, no database row). Refusals say nothing about why beyond the status:
413 or 429 with an empty JSON object (and Retry-After), never an internal detail.

The counters live in the shared cache (Redis or the database table), so the limit holds
across workers. Real senders stay far below the default (Procore and Intuit batch their
notifications); raise ERPBRIDGE_WEBHOOK_RATE_PER_MINUTE if a very busy company needs it.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse

from erpbridge.security import client_ip

PREFIX = "/webhooks/"


class WebhookGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(PREFIX):
            return self.get_response(request)
        limit = settings.ERPBRIDGE_WEBHOOK_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = limit + 1
        if length > limit:
            return JsonResponse({}, status=413)
        window = int(time.time() // 60)
        key = f"webhook-rate:{client_ip(request)}:{request.path}:{window}"
        if cache.add(key, 1, 120):
            count = 1
        else:
            try:
                count = cache.incr(key)
            except ValueError:
                count = 1
        if count > settings.ERPBRIDGE_WEBHOOK_RATE_PER_MINUTE:
            response = JsonResponse({}, status=429)
            response["Retry-After"] = str(60 - int(time.time()) % 60)
            return response
        return self.get_response(request)
