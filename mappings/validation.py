"""Row validation shared by uploads, the admin and the inline services.

Messages are written for accountants: they name the column, the value and what to do.
References are checked against the reference cache of the ERP connection and of the Procore
connection it is paired with; a kind that was never read (the cache is empty for it) cannot
be checked, which is reported once as a warning rather than failing every row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from mappings.models import AccountRole, ReferenceRecord
from mappings.specs import LIST_SEPARATOR, Column, Ref, TableSpec
from sync.models import Connection, Kind

ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:/\-]+$")
CURRENCY_PATTERN = re.compile(r"^[A-Za-z]{3}$")
SYSTEM_NAMES = {"erp": "the ERP", "procore": "Procore"}
KIND_LABELS = {
    "cost_code": "cost code",
    "cost_type": "cost type",
    "job": "job",
}


@dataclass
class RefEntry:
    active: bool
    subsidiary_ids: tuple[str, ...]
    name: str


@dataclass
class ReferenceIndex:
    """The reference cache of one ERP connection (+ its Procore side), held in memory."""

    connection: Connection
    # (side, kind) -> {remote_id or code: entry}
    by_id: dict[tuple[str, str], dict[str, RefEntry]] = field(default_factory=dict)
    by_code: dict[tuple[str, str], dict[str, RefEntry]] = field(default_factory=dict)
    currency_codes: set[str] = field(default_factory=set)
    procore_paired: bool = False

    @classmethod
    def load(cls, connection: Connection) -> ReferenceIndex:
        index = cls(connection=connection, procore_paired=bool(connection.procore_connection_id))
        sides = [("erp", connection.pk)]
        if connection.procore_connection_id:
            sides.append(("procore", connection.procore_connection_id))
        for side, connection_id in sides:
            rows = ReferenceRecord.objects.filter(connection_id=connection_id).values_list(
                "kind", "remote_id", "code", "active", "subsidiary_ids", "name"
            )
            for kind, remote_id, code, active, subsidiaries, name in rows.iterator(2000):
                entry = RefEntry(active, tuple(str(s) for s in subsidiaries or ()), name)
                index.by_id.setdefault((side, kind), {})[remote_id] = entry
                if code:
                    index.by_code.setdefault((side, kind), {}).setdefault(code, entry)
                if side == "erp" and kind == "currency" and code:
                    index.currency_codes.add(code.upper())
        return index

    def known(self, ref: Ref) -> bool:
        """Whether this reference can be checked at all (something was read for it)."""
        cache = self.__dict__.setdefault("_known", {})
        if ref not in cache:
            table = self.by_code if ref.by == "code" else self.by_id
            cache[ref] = (ref.side != "procore" or self.procore_paired) and any(
                (ref.side, kind) in table for kind in ref.kinds
            )
        return cache[ref]

    def find(self, ref: Ref, value: str) -> RefEntry | None:
        table = self.by_code if ref.by == "code" else self.by_id
        for kind in ref.kinds:
            entry = table.get((ref.side, kind), {}).get(value)
            if entry is not None:
                return entry
        return None


def clean_cell(value: object) -> str:
    """A cell as text: trimmed; an export's formula guard (a leading ') removed.

    Numbers from a spreadsheet are Decimal (made from the cell's own digits): written
    without an exponent and without trailing zeros, so 901 and 901.0 both read "901"."""
    if type(value) is str:  # nearly every cell: CSV, and text cells of a spreadsheet
        text = value.strip()
        if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
            text = text[1:]
        return text
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "date") and callable(value.date):  # datetime from a spreadsheet
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r":
        text = text[1:]
    return text


def decimal_text(value: Decimal) -> str:
    if value.is_zero():
        return "0"
    if not value.is_finite() or abs(value.adjusted()) > 60:
        return str(value)
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def check_format(column: Column, text: str, erp_kind: str) -> str | None:
    """One cell's format problem in plain words, or None."""
    if not text:
        return f"{column.name} is required; it is empty." if column.required else None
    name = column.name
    if len(text) > column.max_length:
        return f"{name} is {len(text)} characters long; at most {column.max_length} fit."
    if column.kind == "id" and not ID_PATTERN.match(text):
        return (
            f"{name} {text!r} is not an id: use the record's internal id "
            "(letters, digits, - _ . : /)."
        )
    if column.kind == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return f"{name} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-01-01."
        if len(text) != 10:
            return f"{name} {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-01-01."
    if column.kind == "currency" and not CURRENCY_PATTERN.match(text):
        return f"{name} {text!r} is not a three-letter ISO currency code such as USD."
    if column.kind == "role" and text not in AccountRole.values:
        return f"{name} {text!r} is not a role; use one of {', '.join(AccountRole.values)}."
    if column.kind == "list":
        for part in text.split(LIST_SEPARATOR):
            part = part.strip()
            if part and not ID_PATTERN.match(part):
                return (
                    f"{name} {text!r}: {part!r} is not an id; separate ids with "
                    f"'{LIST_SEPARATOR}', e.g. 1|3."
                )
    if column.ref and erp_kind not in column.ref.erp_kinds:
        return f"{name} must be blank: {Kind(erp_kind).label} has no subsidiaries."
    return None


def check_reference(
    column: Column, text: str, index: ReferenceIndex, subsidiary: str
) -> str | None:
    ref = column.ref
    if ref is None or not text or not index.known(ref):
        return None
    label = KIND_LABELS.get(ref.kinds[0], ref.kinds[0])
    system = SYSTEM_NAMES[ref.side]
    values = [p.strip() for p in text.split(LIST_SEPARATOR) if p.strip()]
    if column.kind != "list":
        values = [text]
    for value in values:
        entry = index.find(ref, value)
        if entry is None:
            how = "code" if ref.by == "code" else "id"
            return (
                f"{column.name} {value!r}: no {label} with this {how} in {system} "
                f"(as last read; refresh the reference cache if it was added since)."
            )
        if not entry.active:
            return f"{column.name} {value!r}: {label} {entry.name!r} is inactive in {system}."
        if (
            subsidiary
            and ref.side == "erp"
            and entry.subsidiary_ids
            and subsidiary not in entry.subsidiary_ids
        ):
            return (
                f"{column.name} {value!r}: {label} {entry.name!r} is not available in "
                f"subsidiary {subsidiary} (it is in {', '.join(entry.subsidiary_ids)})."
            )
    return None


_UNSEEN = object()


class RowChecker:
    """`validate_row` for many rows of one table: each distinct value of a column is checked
    once (per subsidiary, for ERP references) and the answer reused for the other rows.

    A 100,000-row file names a few thousand distinct codes and a few dozen items, accounts
    and classes; checking each cell again was most of the time spent validating a file."""

    def __init__(self, spec: TableSpec, index: ReferenceIndex | None) -> None:
        self.spec, self.index = spec, index
        self.erp_kind = index.connection.kind if index else Kind.NETSUITE
        self.formats = [(c.name, c, {}) for c in spec.columns]
        # Only references that can be checked; ERP ones also depend on the row's subsidiary.
        self.references = [
            (c.name, c, {}, c.ref.side == "erp")
            for c in spec.columns
            if index is not None and c.ref is not None and index.known(c.ref)
        ]
        self.one_of = spec.one_of
        self.check_currency = spec.name == "project"

    def __call__(self, row: dict[str, str]) -> list[str]:
        """All problems of one row (values already cleaned with `clean_cell`)."""
        errors = []
        erp_kind = self.erp_kind
        for name, column, seen in self.formats:
            text = row.get(name, "")
            problem = seen.get(text, _UNSEEN)
            if problem is _UNSEEN:
                problem = seen[text] = check_format(column, text, erp_kind)
            if problem:
                errors.append(problem)
        if self.one_of and not any(row.get(name) for name in self.one_of):
            errors.append(f"give {' or '.join(self.one_of)} (at least one); both are empty.")
        index = self.index
        if errors or index is None:
            return errors
        subsidiary = row.get("subsidiary_id", "")
        for name, column, seen, by_subsidiary in self.references:
            text = row.get(name, "")
            if not text:
                continue
            key = (text, subsidiary) if by_subsidiary else text
            problem = seen.get(key, _UNSEEN)
            if problem is _UNSEEN:
                problem = seen[key] = check_reference(column, text, index, subsidiary)
            if problem:
                errors.append(problem)
        currency = row.get("currency", "")
        if (
            self.check_currency
            and index.currency_codes
            and currency.upper() not in index.currency_codes
        ):
            errors.append(f"currency {currency!r} is not a currency of this ERP account.")
        return errors


def validate_row(spec: TableSpec, row: dict[str, str], index: ReferenceIndex | None) -> list[str]:
    """All problems of one row (values already cleaned with `clean_cell`)."""
    return RowChecker(spec, index)(row)


def unchecked_warnings(spec: TableSpec, index: ReferenceIndex) -> list[str]:
    """References this table has that could not be checked (nothing in the cache)."""
    warnings = []
    for column in spec.columns:
        ref = column.ref
        if ref is None or index.connection.kind not in ref.erp_kinds or index.known(ref):
            continue
        if ref.side == "procore" and not index.procore_paired:
            why = "this ERP connection is not paired with a Procore connection"
        else:
            why = "the reference cache has no such records yet (refresh it)"
        warnings.append(f"{column.name} was not checked against {SYSTEM_NAMES[ref.side]}: {why}.")
    return warnings
