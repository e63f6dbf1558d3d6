"""Uploads: read a file, validate every row, preview the outcome, apply it all or nothing.

`upload_plan` writes nothing. `upload_preview` stores the file and what the preview page
shows. `upload_apply` plans again inside one transaction (the table may have changed since
the preview), refuses if anything is wrong or the outcome differs from what was reviewed,
then bulk-writes the rows and their history. Rows absent from the file are left alone: an
upload adds and updates, it never deletes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from mappings import events
from mappings.files import CanonicalWriter, FileRefused, read, read_canonical
from mappings.models import MappingChange, MappingUpload, UploadStatus
from mappings.services.bulk import insert_rows, update_rows
from mappings.specs import TABLES, TableSpec, from_text, to_text
from mappings.validation import ReferenceIndex, RowChecker, clean_cell, unchecked_warnings
from sync.models import Connection

BATCH = 2000
SAMPLE = 200
MAX_PREVIEW_ERRORS = 500


class UploadRefused(Exception):
    """Apply refused; `str(exc)` says why in plain words."""


@dataclass
class Plan:
    spec: TableSpec
    rows: int = 0
    # (line, row) / (line, pk, before, after) / line / (line, messages, cells)
    creates: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    updates: list[tuple[int, int, dict[str, str], dict[str, str]]] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    errors: list[tuple[int, list[str], dict[str, str]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "create": len(self.creates),
            "update": len(self.updates),
            "unchanged": len(self.unchanged),
            "error": len(self.errors),
        }


def normalise_header(name: str) -> str:
    return str(name).strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


def check_header(spec: TableSpec, header: list[str]) -> list[str]:
    names = [normalise_header(h) for h in header]
    problems = []
    missing = [c.name for c in spec.columns if c.required and c.name not in names]
    unknown = [h for h in names if h and h not in spec.column_names]
    doubled = sorted({h for h in names if h and names.count(h) > 1})
    if "" in names:
        problems.append("a column has no header")
    if missing:
        problems.append(f"required column(s) missing: {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown column(s): {', '.join(unknown)}")
    if doubled:
        problems.append(f"column(s) given twice: {', '.join(doubled)}")
    if problems:
        raise FileRefused(
            f"The headers do not match the {spec.label.lower()} table: "
            + "; ".join(problems)
            + f". Expected: {', '.join(spec.column_names)} (download the template)."
        )
    return names


def existing_rows(spec: TableSpec, connection: Connection) -> dict[tuple, tuple[int, dict]]:
    fields = ["pk", *spec.column_names]
    found = {}
    queryset = spec.model.objects.filter(connection=connection).values_list(*fields)
    for values in queryset.iterator(chunk_size=BATCH):
        obj = dict(zip(fields, values, strict=True))
        row = spec.row_of(_Attrs(obj))
        found[spec.key_of(row)] = (obj["pk"], row)
    return found


class _Attrs:
    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)


def upload_plan(
    *,
    connection: Connection,
    table: str,
    filename: str,
    content: bytes,
    canonical: bool = False,
    keep: CanonicalWriter | None = None,
) -> Plan:
    """Everything an upload would do, with every row's problems; writes nothing.

    `canonical`: `content` is the stored form of an earlier preview (see files.py);
    `keep`: a writer that receives every non-blank row in that form."""
    spec = TABLES[table]
    if not connection.is_erp:
        raise FileRefused("Mappings belong to an ERP connection (NetSuite or QuickBooks).")
    sheet = read_canonical(content) if canonical else read(filename, content)
    names = check_header(spec, sheet.header)
    if keep is not None:
        keep.start(names)
    index = ReferenceIndex.load(connection)
    plan = Plan(spec=spec, warnings=unchecked_warnings(spec, index))
    current = existing_rows(spec, connection)
    check = RowChecker(spec, index)
    seen: dict[tuple, int] = {}
    width = len(names)
    columns = spec.column_names
    # Where each column of the table sits in the file (None: not in the file, blank).
    positions = [names.index(name) if name in names else None for name in columns]
    in_order = list(columns) == names
    upper = [c.name for c in spec.columns if c.kind == "currency"]
    key_of = spec.key_of
    creates, updates, unchanged, errors = plan.creates, plan.updates, plan.unchanged, plan.errors
    add = keep.add if keep is not None else None
    clean = clean_cell
    rows = 0
    for line, cells in sheet.rows:
        if len(cells) > width and any(clean(c) for c in cells[width:]):
            row = {name: clean(v) for name, v in zip(names, cells, strict=False)}
            if add is not None:
                add(line, [clean(c) for c in cells])
            rows += 1
            errors.append((line, ["the row has more cells than there are headers."], row))
            continue
        texts = [clean(c) for c in cells[:width]]
        if not any(texts):
            continue  # blank line
        if add is not None:
            add(line, texts)
        rows += 1
        if in_order and len(texts) == width:
            row = dict(zip(columns, texts, strict=True))
        else:
            given = len(texts)
            row = {
                name: texts[at] if at is not None and at < given else ""
                for name, at in zip(columns, positions, strict=True)
            }
        for name in upper:
            row[name] = row[name].upper()
        problems = check(row)
        key = key_of(row)
        first = seen.setdefault(key, line)
        if first != line:
            what = ", ".join(f"{n} {row[n]!r}" for n in spec.key if row[n])
            problems.append(f"same key as line {first} ({what}); keep one of the two.")
        if problems:
            errors.append((line, problems, row))
            continue
        found = current.get(key)
        if found is None:
            creates.append((line, row))
            continue
        pk, before = found
        if before == row:
            unchanged.append(line)
        else:
            updates.append((line, pk, before, row))
    plan.rows = rows
    if plan.rows == 0:
        raise FileRefused("The file has headers but no rows: nothing to import.")
    return plan


def preview_of(plan: Plan) -> dict:
    return {
        "warnings": plan.warnings,
        "creates": [{"line": line, "row": row} for line, row in plan.creates[:SAMPLE]],
        "updates": [
            {
                "line": line,
                "key": {n: after[n] for n in plan.spec.key},
                "changes": {k: [before[k], after[k]] for k in after if before[k] != after[k]},
            }
            for line, _pk, before, after in plan.updates[:SAMPLE]
        ],
        "unchanged": plan.unchanged[:SAMPLE],
        "errors": [
            {"line": line, "messages": messages}
            for line, messages, _row in plan.errors[:MAX_PREVIEW_ERRORS]
        ],
    }


def upload_preview(
    *, connection: Connection, table: str, filename: str, content: bytes, user
) -> MappingUpload:
    """Validate a file and keep it for review; raises FileRefused for an unusable file."""
    keep = CanonicalWriter()
    plan = upload_plan(
        connection=connection, table=table, filename=filename, content=content, keep=keep
    )
    status = UploadStatus.REFUSED if plan.errors else UploadStatus.PREVIEWED
    upload = MappingUpload.objects.create(
        connection=connection,
        table=table,
        filename=filename[:255],
        file_format="xlsx" if content[:4] == b"PK\x03\x04" else "csv",
        content=keep.content(),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=user if getattr(user, "pk", None) else None,
        status=status,
        counts=plan.counts,
        preview=preview_of(plan),
    )
    audit_record(
        actor=user,
        action="mapping_upload.preview",
        target=upload,
        after={"table": table, "filename": upload.filename, "status": status, **plan.counts},
    )
    return upload


def upload_errors(upload: MappingUpload) -> tuple[list[str], list[list[str]]]:
    """Every error of an upload, for download: line, problems, then the row's cells."""
    spec = TABLES[upload.table]
    plan = upload_plan(
        connection=upload.connection,
        table=upload.table,
        filename=upload.filename,
        content=bytes(upload.content),
        canonical=True,
    )
    header = ["line", "problems", *spec.column_names]
    rows = [
        [str(line), " ".join(messages), *[row.get(n, "") for n in spec.column_names]]
        for line, messages, row in plan.errors
    ]
    return header, rows


def upload_apply(*, upload: MappingUpload, user) -> MappingUpload:
    """Apply a reviewed upload in one transaction, or refuse and change nothing."""
    now = timezone.now()
    with transaction.atomic():
        claimed = MappingUpload.objects.filter(pk=upload.pk, status=UploadStatus.PREVIEWED).update(
            status=UploadStatus.APPLIED, status_changed_at=now
        )
        if claimed != 1:
            raise UploadRefused("This upload was already applied or discarded.")
        try:
            plan = upload_plan(
                connection=upload.connection,
                table=upload.table,
                filename=upload.filename,
                content=bytes(upload.content),
                canonical=True,
            )
        except FileRefused as exc:
            raise UploadRefused(str(exc)) from exc
        if plan.errors:
            raise UploadRefused(
                f"{len(plan.errors)} row(s) have errors now; nothing was changed. "
                "Upload the corrected file again."
            )
        if plan.counts != upload.counts:
            raise UploadRefused(
                "The table changed since this preview (someone else edited it); nothing was "
                "changed. Upload the file again to see a fresh preview."
            )
        _write(plan, upload, user, now)
        MappingUpload.objects.filter(pk=upload.pk).update(content=b"")
        # One entry per upload; each row's before/after is in its MappingChange history.
        audit_record(
            actor=user,
            action="mapping_upload.apply",
            target=upload,
            after={"table": upload.table, "filename": upload.filename, "counts": plan.counts},
        )
    upload.refresh_from_db()
    return upload


def _write(plan: Plan, upload: MappingUpload, user, now) -> None:
    spec = plan.spec
    model = spec.model
    conn_id = upload.connection_id
    user_id = user.pk if getattr(user, "pk", None) else None
    names = list(spec.column_names)
    # Text -> model value, per column; most columns are text and pass through unchanged.
    converters = [
        (name, None if column.kind in ("text", "id") else partial(from_text, column))
        for name, column in zip(names, spec.columns, strict=True)
    ]

    def model_values(row: dict[str, str]) -> list:
        return [row[n] if convert is None else convert(row[n]) for n, convert in converters]

    insert_rows(
        model,
        ["connection", "notes", "created_at", "updated_at", *names],
        ([conn_id, "", now, now, *model_values(row)] for _line, row in plan.creates),
    )
    update_rows(
        model,
        ["updated_at", *names],
        ([now, *model_values(after), pk] for _line, pk, _before, after in plan.updates),
    )
    # The new rows' ids, by key, for their history rows. Text columns come back as the text
    # itself; only dates (and lists) need `to_text`.
    converted = [
        (at, partial(to_text, column))
        for at, column in enumerate(spec.column(n) for n in spec.key)
        if column.kind in ("date", "list")
    ]
    ids = {}
    for values in (
        model.objects.filter(connection_id=conn_id)
        .values_list("pk", *spec.key)
        .iterator(chunk_size=BATCH)
    ):
        key = list(values[1:])
        for at, convert in converted:
            key[at] = convert(key[at])
        ids[tuple(key)] = values[0]
    key_names = spec.key
    source = MappingChange.Source.UPLOAD

    def history_rows():
        for _line, row in plan.creates:
            key = {n: row[n] for n in key_names}
            yield [conn_id, spec.name, ids[spec.key_of(row)], key, "create", None, row]
        for _line, pk, before, after in plan.updates:
            key = {n: after[n] for n in key_names}
            yield [conn_id, spec.name, pk, key, "update", before, after]

    insert_rows(
        MappingChange,
        [
            "connection",
            "table",
            "row_id",
            "key",
            "action",
            "before",
            "after",
            "user",
            "source",
            "upload",
            "at",
        ],
        ([*h, user_id, source, upload.pk, now] for h in history_rows()),
    )
    keys = [events.event_key(spec.name, row) for _line, row in plan.creates]
    keys += [events.event_key(spec.name, after) for _l, _pk, _b, after in plan.updates]
    events.mapping_added(upload.connection_id, spec.name, keys)


def upload_discard(*, upload: MappingUpload, user) -> bool:
    """Drop a previewed upload; True if it was still waiting."""
    with transaction.atomic():
        discarded = bool(
            MappingUpload.objects.filter(pk=upload.pk, status=UploadStatus.PREVIEWED).update(
                status=UploadStatus.DISCARDED, status_changed_at=timezone.now(), content=b""
            )
        )
        if discarded:
            audit_record(actor=user, action="mapping_upload.discard", target=upload)
    return discarded
