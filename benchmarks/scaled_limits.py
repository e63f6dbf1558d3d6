"""Limiters with rate windows shrunk by the benchmark's time scale.

``ScaledLimits`` wraps any limit backend; the inline run wraps in-memory limiters with it, and
``ScaledLimitsConfig`` (a benchmark-only app, ``benchmarks/cluster_settings.py``) makes the
cluster's shared (Redis or database) backend scaled by ``ERPBRIDGE_BENCH_RATE_SCALE``."""

from __future__ import annotations

import os
import time

from django.apps import AppConfig


class ScaledLimits:
    """``inner``'s limiters, with every rate window ``scale`` times shorter."""

    def __init__(self, inner, scale: float) -> None:
        self.inner, self.scale = inner, scale

    def rate_window(self, key, limit, seconds, *, sleep=time.sleep):
        return self.inner.rate_window(key, limit, seconds / self.scale, sleep=sleep)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class ScaledLimitsConfig(AppConfig):
    name = "benchmarks"
    label = "benchmark_scaled_limits"

    def ready(self) -> None:
        import sync.clients

        scale = float(os.environ.get("ERPBRIDGE_BENCH_RATE_SCALE") or 1)
        product = sync.clients.limit_backend
        sync.clients.limit_backend = lambda: ScaledLimits(product(), scale)
