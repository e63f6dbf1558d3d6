"""Canonical payloads: one JSON form for storing, hashing and diffing what we send.

Money stays exact: a ``Decimal`` becomes its string ("1250.00"), never a float; the ERP
adapters turn the amount fields back into numbers at the wire (``sync.erp.wire``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def canonical(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool:  # the common leaves first
        return value
    if kind is dict:
        return {
            (k if type(k) is str else str(k)): canonical(v)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def fingerprint(payload: Any) -> str:
    text = json.dumps(canonical(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
