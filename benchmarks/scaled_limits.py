"""Benchmark-only app: the cluster's shared (Redis or database) limiters with rate windows
shrunk by ``ERPBRIDGE_BENCH_RATE_SCALE`` (see ``benchmarks/cluster_settings.py``)."""

from __future__ import annotations

import os
import time

from django.apps import AppConfig


class ScaledLimitsConfig(AppConfig):
    name = "benchmarks"
    label = "benchmark_scaled_limits"

    def ready(self) -> None:
        import sync.clients

        scale = float(os.environ.get("ERPBRIDGE_BENCH_RATE_SCALE") or 1)
        product = sync.clients.limit_backend

        class Scaled:
            def __init__(self, inner) -> None:
                self.inner = inner

            def rate_window(self, key, limit, seconds, *, sleep=time.sleep):
                return self.inner.rate_window(key, limit, seconds / scale, sleep=sleep)

            def __getattr__(self, name):
                return getattr(self.inner, name)

        sync.clients.limit_backend = lambda: Scaled(product())
