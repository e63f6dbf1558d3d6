"""Settings for the benchmark's qcluster: the product's, plus ``benchmarks.scaled_limits``,
which time-scales the rate windows as the inline run does (``ERPBRIDGE_BENCH_RATE_SCALE``).

QuickBooks' limits are windows (500 a minute, 10 a second per realm): the benchmark shrinks the
windows by the same scale as the sandbox's latency, or a 20x-scaled run would wait on real
minutes. NetSuite's limit is a concurrency count and is left as it is.
"""

from erpbridge.settings import *  # noqa: F403
from erpbridge.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "benchmarks.scaled_limits.ScaledLimitsConfig"]
