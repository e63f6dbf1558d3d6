"""The demo/benchmark dataset: ``generate(seed, size)`` fills the neutral model in ``model.py``.

``python -m sandboxes.dataset --seed 42 --size demo`` prints ``summary()`` as JSON.
"""

from .generate import REFERENCE_DATE, SIZES, generate
from .planted import PLANTED_KINDS
from .summary import summary

__all__ = ["PLANTED_KINDS", "REFERENCE_DATE", "SIZES", "generate", "summary"]
