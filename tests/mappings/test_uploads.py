"""Uploads and exports: round trips, bad files, validation, atomic apply, history."""

import io
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from mappings.files import FileRefused
from mappings.models import (
    AccountRoleMapping,
    CostCodeMapping,
    CurrencyMapping,
    MappingChange,
    MappingUpload,
    ProjectMapping,
    UploadStatus,
    VendorMapping,
)
from mappings.selectors import table_export
from mappings.services import UploadRefused, upload_apply, upload_preview
from mappings.specs import TABLES

pytestmark = pytest.mark.django_db

ROWS = {
    "project": [
        {
            "procore_project_id": "1001",
            "erp_customer_id": "500",
            "erp_job_id": "501",
            "subsidiary_id": "1",
            "currency": "USD",
            "class_id": "7",
            "department_id": "8",
            "location_id": "9",
        },
    ],
    "cost_code": [
        {
            "cost_code": "03-300",
            "cost_type": "S",
            "subsidiary_id": "1",
            "item_id": "900",
            "account_id": "600",
            "class_id": "7",
        },
        {"cost_code": "03-300", "account_id": "600"},
        {
            "cost_code": "06-100",
            "procore_project_id": "1001",
            "effective_from": "2026-01-01",
            "item_id": "901",
        },
    ],
    "vendor": [{"procore_vendor_id": "4001", "erp_vendor_id": "700", "subsidiary_ids": "1"}],
    "account_role": [
        {"role": "accounts_payable", "account_id": "111"},
        {
            "role": "accounts_payable",
            "subsidiary_id": "3",
            "effective_from": "2026-01-01",
            "account_id": "600",
        },
    ],
    "currency": [{"currency": "CAD", "erp_currency_id": "3"}],
}
MODELS = {
    "project": ProjectMapping,
    "cost_code": CostCodeMapping,
    "vendor": VendorMapping,
    "account_role": AccountRoleMapping,
    "currency": CurrencyMapping,
}


def csv_bytes(table, rows, *, delimiter=",", encoding="utf-8", header=None):
    columns = header or list(TABLES[table].column_names)
    lines = [delimiter.join(columns)]
    for row in rows:
        lines.append(delimiter.join(row.get(c, "") for c in columns))
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(table, rows, *, header=None, setup=None):
    columns = header or list(TABLES[table].column_names)
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c, "") or None for c in columns])
    if setup:
        setup(wb, ws)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def preview(conn, table, content, name="file.csv", user=None):
    return upload_preview(connection=conn, table=table, filename=name, content=content, user=user)


@pytest.mark.parametrize("table", sorted(ROWS))
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(references, integration_admin, table, fmt):
    upload = preview(references, table, csv_bytes(table, ROWS[table]), user=integration_admin)
    assert upload.counts["error"] == 0, upload.preview["errors"]
    upload_apply(upload=upload, user=integration_admin)
    assert MODELS[table].objects.count() == len(ROWS[table])
    name, content = table_export(connection=references, table=table, file_format=fmt)
    assert name.endswith(f".{fmt}")
    again = preview(references, table, content, name=name, user=integration_admin)
    assert again.counts == {
        "rows": len(ROWS[table]),
        "create": 0,
        "update": 0,
        "unchanged": len(ROWS[table]),
        "error": 0,
    }


def test_apply_records_history_with_file_and_uploader_and_updates_show_before_after(
    references, integration_admin
):
    upload = preview(
        references,
        "currency",
        csv_bytes("currency", ROWS["currency"]),
        name="fx.csv",
        user=integration_admin,
    )
    upload_apply(upload=upload, user=integration_admin)
    row = CurrencyMapping.objects.get()
    change = MappingChange.objects.get(row_id=row.pk, table="currency")
    assert (change.action, change.user, change.upload.filename) == (
        "create",
        integration_admin,
        "fx.csv",
    )
    assert change.after == {"currency": "CAD", "erp_currency_id": "3"}
    second = preview(
        references,
        "currency",
        csv_bytes("currency", [{"currency": "cad", "erp_currency_id": "1"}]),
        user=integration_admin,
    )
    assert second.counts["update"] == 1
    assert second.preview["updates"][0]["changes"] == {"erp_currency_id": ["3", "1"]}
    upload_apply(upload=second, user=integration_admin)
    update = MappingChange.objects.filter(row_id=row.pk).first()
    assert (update.action, update.before["erp_currency_id"], update.after["erp_currency_id"]) == (
        "update",
        "3",
        "1",
    )
    assert MappingUpload.objects.get(pk=second.pk).status == UploadStatus.APPLIED


def test_validation_names_line_column_and_problem_against_the_reference_cache(references):
    rows = [
        {"cost_code": "03-300", "cost_type": "S", "account_id": "600"},  # ok, line 2
        {"cost_code": "99-999", "account_id": "600"},  # unknown Procore cost code
        {"cost_code": "03-300", "cost_type": "M", "account_id": "602"},  # inactive account
        {"cost_code": "03-300", "cost_type": "M", "subsidiary_id": "3", "account_id": "601"},
        {"cost_code": "06-100", "item_id": "999999"},  # unknown item
        {"cost_code": "06-100"},  # no target
        {"cost_code": "03-300", "cost_type": "S", "account_id": "601"},  # duplicate of line 2
        {"cost_code": "06-100", "effective_from": "01/02/2026", "item_id": "900"},
    ]
    upload = preview(references, "cost_code", csv_bytes("cost_code", rows))
    errors = {e["line"]: " ".join(e["messages"]) for e in upload.preview["errors"]}
    assert upload.counts == {"rows": 8, "create": 1, "update": 0, "unchanged": 0, "error": 7}
    assert "no cost code with this code in Procore" in errors[3]
    assert "inactive" in errors[4]
    assert "not available in subsidiary 3" in errors[5]
    assert "no item with this id in the ERP" in errors[6]
    assert "give item_id or account_id" in errors[7]
    assert "same key as line 2" in errors[8]
    assert "YYYY-MM-DD" in errors[9]
    assert upload.status == UploadStatus.REFUSED
    with pytest.raises(UploadRefused):
        upload_apply(upload=upload, user=None)
    assert CostCodeMapping.objects.count() == 0


def test_quickbooks_rows_may_not_name_a_subsidiary(quickbooks):
    upload = preview(
        quickbooks,
        "account_role",
        csv_bytes(
            "account_role", [{"role": "accounts_payable", "subsidiary_id": "1", "account_id": "33"}]
        ),
    )
    assert "QuickBooks Online has no subsidiaries" in upload.preview["errors"][0]["messages"][0]


def test_unchecked_references_are_reported_as_warnings(netsuite):
    upload = preview(netsuite, "currency", csv_bytes("currency", ROWS["currency"]))
    assert upload.counts["error"] == 0
    assert any("erp_currency_id was not checked" in w for w in upload.preview["warnings"])


@pytest.mark.parametrize(
    "encoding,delimiter", [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";"), ("cp1252", ",")]
)
def test_csv_encodings_and_delimiters(references, encoding, delimiter):
    rows = [{"procore_vendor_id": "4001", "erp_vendor_id": "700"}]
    content = csv_bytes("vendor", rows, delimiter=delimiter, encoding=encoding)
    upload = preview(references, "vendor", content)
    assert upload.counts["create"] == 1


def test_windows_1252_text_is_read_as_such(netsuite):
    content = "currency;erp_currency_id\r\nEUR;Währung-1\r\n".encode("cp1252")
    upload = preview(netsuite, "currency", content)
    assert "'Währung-1' is not an id" in upload.preview["errors"][0]["messages"][0]


def merged(wb, ws):
    ws.merge_cells("A2:B2")


def formula(wb, ws):
    ws["B2"] = "=1+2"


def two_sheets(wb, ws):
    wb.create_sheet("Notes")


BAD_FILES = [
    ("empty.csv", lambda: b"", "The file is empty."),
    ("blank.csv", lambda: b"  \r\n", "The file is empty."),
    ("headers.csv", lambda: csv_bytes("currency", []), "headers but no rows"),
    ("wrong.csv", lambda: b"code,id\r\nCAD,3\r\n", "required column(s) missing: currency"),
    (
        "extra.csv",
        lambda: (
            csv_bytes("currency", [], header=["currency", "erp_currency_id", "x"]) + b"CAD,3,1\r\n"
        ),
        "unknown column(s): x",
    ),
    ("picture.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "not a CSV or XLSX"),
    ("binary.csv", lambda: b"currency\x00\x01\x02", "binary data"),
    ("old.xls", lambda: b"\xd0\xcf\x11\xe0 old excel", "save the sheet as .xlsx"),
    ("broken.xlsx", lambda: b"PK\x03\x04 not really a zip", "not a readable XLSX"),
    ("merged.xlsx", lambda: xlsx_bytes("currency", ROWS["currency"], setup=merged), "merged"),
    ("formula.xlsx", lambda: xlsx_bytes("currency", ROWS["currency"], setup=formula), "formulas"),
    ("sheets.xlsx", lambda: xlsx_bytes("currency", ROWS["currency"], setup=two_sheets), "2 sheets"),
]


@pytest.mark.parametrize("name,make,message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_get_one_message_and_change_nothing(netsuite, name, make, message):
    with pytest.raises(FileRefused) as refused:
        preview(netsuite, "currency", make(), name=name)
    assert message in str(refused.value)
    assert MappingUpload.objects.count() == 0 and CurrencyMapping.objects.count() == 0


def test_too_big_file_has_its_own_message(netsuite, settings):
    settings.MAPPINGS_UPLOAD_MAX_BYTES = 1024 * 1024
    content = csv_bytes("currency", ROWS["currency"]) + b"\r\n" * (1024 * 1024)
    with pytest.raises(FileRefused) as refused:
        preview(netsuite, "currency", content)
    assert "the limit is 1 MB" in str(refused.value)


def test_atomic_apply_a_failure_mid_write_leaves_the_table_untouched(
    references, integration_admin, monkeypatch
):
    rows = [
        {"cost_code": "03-300", "cost_type": "S", "account_id": "600"},
        {"cost_code": "06-100", "item_id": "900"},
    ]
    existing = preview(references, "cost_code", csv_bytes("cost_code", rows[:1]))
    upload_apply(upload=existing, user=integration_admin)
    rows[0]["account_id"] = "601"
    upload = preview(references, "cost_code", csv_bytes("cost_code", rows))
    assert (upload.counts["create"], upload.counts["update"]) == (1, 1)

    from mappings.services import uploads

    real_insert = uploads.insert_rows

    def insert_then_fail_on_history(model, names, rows):
        if model is MappingChange:  # the rows are written by now; the history write fails
            raise RuntimeError("database went away")
        real_insert(model, names, rows)

    monkeypatch.setattr(uploads, "insert_rows", insert_then_fail_on_history)
    with pytest.raises(RuntimeError):
        upload_apply(upload=upload, user=integration_admin)
    assert list(CostCodeMapping.objects.values_list("cost_code", "account_id")) == [
        ("03-300", "600")
    ]
    assert MappingUpload.objects.get(pk=upload.pk).status == UploadStatus.PREVIEWED


def test_apply_refuses_when_the_table_changed_since_the_preview(references, integration_admin):
    upload = preview(references, "currency", csv_bytes("currency", ROWS["currency"]))
    CurrencyMapping.objects.create(connection=references, currency="CAD", erp_currency_id="1")
    with pytest.raises(UploadRefused, match="changed since this preview"):
        upload_apply(upload=upload, user=integration_admin)
    assert CurrencyMapping.objects.get().erp_currency_id == "1"


def test_exports_neutralise_formula_text_and_the_import_restores_it(netsuite):
    CostCodeMapping.objects.create(
        connection=netsuite,
        cost_code="=HYPERLINK(1)",
        account_id="-5",
        effective_from=date(2026, 1, 1),
    )
    CostCodeMapping.objects.create(
        connection=netsuite, cost_code="@SUM", cost_type="+7", account_id="600"
    )
    _name, csv_content = table_export(connection=netsuite, table="cost_code", file_format="csv")
    text = csv_content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text and "'-5" in text and "'@SUM" in text and "'+7" in text
    _name, xlsx_content = table_export(connection=netsuite, table="cost_code", file_format="xlsx")
    ws = load_workbook(io.BytesIO(xlsx_content)).active
    values = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    assert "'=HYPERLINK(1)" in values and all(
        not (isinstance(v, str) and v.startswith("=")) for v in values
    )
    from mappings.services import upload_plan

    for name, content in (("x.csv", csv_content), ("x.xlsx", xlsx_content)):
        plan = upload_plan(connection=netsuite, table="cost_code", filename=name, content=content)
        assert plan.counts["unchanged"] == 2, plan.errors
