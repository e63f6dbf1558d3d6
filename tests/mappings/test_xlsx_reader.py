"""The streaming XLSX reader: files written by openpyxl and by hand, every cell type, and
damaged files refused with the row and cell that is wrong."""

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from mappings.files import FileRefused
from mappings.models import CostCodeMapping, MappingUpload
from mappings.services import upload_preview
from mappings.specs import TABLES
from mappings.validation import clean_cell
from mappings.xlsx import read_xlsx

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def read(content):
    sheet = read_xlsx(content)
    return sheet.header, list(sheet.rows)


def handmade(sheet_data, *, strings=None, styles=None, date1904=False, prefix="", extra=""):
    """A minimal workbook as Excel lays it out: workbook, its relationships, one sheet,
    optionally shared strings and styles. `prefix` writes the main namespace with a prefix."""
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="{MAIN}"'
    files = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"/>',
        "_rels/.rels": f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
        f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<{p}workbook {ns} xmlns:r="{RELS}">'
        + (f'<{p}workbookPr date1904="1"/>' if date1904 else "")
        + f'<{p}sheets><{p}sheet name="Codes" sheetId="1" r:id="rId1"/></{p}sheets>'
        f"</{p}workbook>",
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{RELS}/sharedStrings" Target="/xl/sharedStrings.xml"/>'
        f'<Relationship Id="rId3" Type="{RELS}/styles" Target="styles.xml"/>'
        "</Relationships>",
        "xl/worksheets/sheet1.xml": f"<{p}worksheet {ns}>{extra}<{p}sheetData>{sheet_data}"
        f"</{p}sheetData></{p}worksheet>",
    }
    if strings is not None:
        files["xl/sharedStrings.xml"] = f'<sst xmlns="{MAIN}">{"".join(strings)}</sst>'
    if styles is not None:
        files["xl/styles.xml"] = f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)
    return out.getvalue()


def test_openpyxl_file_reads_as_openpyxl_reads_it_with_numbers_as_decimal():
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "amount", "flag", "day", "note"])
    ws.append(["03-300", 1234.5, True, datetime(2026, 1, 1), "  spaced  "])
    ws.append([None, 7, False, date(2025, 12, 31), "=not a formula"])
    ws["A2"].data_type = "s"
    ws["E3"].data_type = "s"  # text that starts with '=', stored as text
    ws.append([])  # row 4 left out of the file
    ws["B5"] = 0.1
    ws["E5"] = "last"
    out = io.BytesIO()
    wb.save(out)
    header, rows = read(out.getvalue())
    assert header == ["code", "amount", "flag", "day", "note"]

    def as_decimal(value):  # openpyxl gives floats; the reader, the cell's digits
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return Decimal(str(value)) if number else value

    expected = {
        number: [as_decimal(v) for v in values]
        for number, values in enumerate(
            load_workbook(io.BytesIO(out.getvalue()), read_only=True).active.iter_rows(
                min_row=2, values_only=True
            ),
            start=2,
        )
    }
    got = dict(rows)
    assert sorted(got) == [2, 3, 5]  # the sheet's own row numbers; row 4 is not stored
    for number, values in got.items():
        openpyxl_values = expected[number]
        assert values == openpyxl_values[: len(values)]
        assert all(v is None for v in openpyxl_values[len(values) :])
    assert got[2][1] == Decimal("1234.5") and isinstance(got[2][1], Decimal)
    assert got[5][1] == Decimal("0.1")  # the cell's own digits, not a float's
    assert got[2][3] == datetime(2026, 1, 1) and got[3][3] == datetime(2025, 12, 31)
    assert [clean_cell(v) for v in got[2]] == ["03-300", "1234.5", "True", "2026-01-01", "spaced"]


def test_handmade_cells_of_every_kind():
    strings = [
        "<si><t>code</t></si>",
        "<si><t>amount</t></si>",
        # rich text runs are joined; the phonetic reading (rPh) is not part of the text
        "<si><r><rPr><b/></rPr><t>03</t></r><r><t xml:space='preserve'>-300</t></r>"
        "<rPh sb='0' eb='1'><t>zz</t></rPh></si>",
        "<si><t>a &amp; b</t></si>",
    ]
    styles = (
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>'
        '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs>'
    )
    sheet = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><t>flag</t></is></c><c r="D1" t="inlineStr"><is><t>day'
        '</t></is></c><c r="E1" t="inlineStr"><is><t>more</t></is></c></row>'
        # shared rich text, an exact decimal, a boolean, a date by custom format, an error
        '<row r="3"><c r="A3" t="s"><v>2</v></c><c r="B3"><v>1234567890.123456789</v></c>'
        '<c r="C3" t="b"><v>1</v></c><c r="D3" s="1"><v>46023</v></c>'
        '<c r="E3" t="e"><v>#N/A</v></c></row>'
        # skipped columns (B, D absent), an empty cell, a built-in date format, exponent
        '<row r="4"><c r="A4" t="inlineStr"><is><r><t>06</t></r><r><t>-100</t></r></is></c>'
        '<c r="C4"/><c r="E4" s="2"><v>1</v></c><c r="F4"><v>1.5E+3</v></c></row>'
        # a row and cells without references: numbered after the last, columns in order
        '<row><c t="s"><v>3</v></c><c t="str"><v>text result</v></c>'
        '<c t="d"><v>2026-02-03T00:00:00</v></c></row>'
    )
    header, rows = read(handmade(sheet, strings=strings, styles=styles))
    assert header == ["code", "amount", "flag", "day", "more"]
    assert rows == [
        (3, ["03-300", Decimal("1234567890.123456789"), True, datetime(2026, 1, 1), "#N/A"]),
        (4, ["06-100", None, None, None, datetime(1900, 1, 1), Decimal("1.5E+3")]),
        (5, ["a & b", "text result", datetime(2026, 2, 3)]),
    ]
    assert clean_cell(rows[0][1][1]) == "1234567890.123456789"
    assert clean_cell(rows[1][1][5]) == "1500"


def test_1904_date_system_and_prefixed_namespace():
    styles = '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    sheet = (
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>day</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="A2" s="1"><x:v>1</x:v></x:c></x:row>'
    )
    header, rows = read(handmade(sheet, styles=styles, date1904=True, prefix="x"))
    assert header == ["day"]
    assert rows == [(2, [datetime(1904, 1, 2)])]  # day 1 of the 1904 system


def test_header_below_blank_rows_keeps_the_sheets_row_numbers():
    sheet = (
        '<row r="3"><c r="B3" t="inlineStr"><is><t>currency</t></is></c>'
        '<c r="C3" t="inlineStr"><is><t>erp_currency_id</t></is></c></row>'
        '<row r="4"><c r="B4" t="inlineStr"><is><t>CAD</t></is></c><c r="C4"><v>3</v></c></row>'
    )
    header, rows = read(handmade(sheet))
    assert header == ["", "currency", "erp_currency_id"]
    assert rows == [(4, [None, "CAD", Decimal("3")])]


@pytest.mark.parametrize(
    "sheet,strings,message",
    [
        ('<row r="1"><c r="A1" t="s"><v>5</v></c></row>', ["<si><t>x</t></si>"], "row 1, cell A1"),
        ('<row r="1"><c r="A1"><v>12abc</v></c></row>', None, "'12abc' is not a number"),
        ('<row r="1"><c r="A1"><v>NaN</v></c></row>', None, "is not a number"),
        ('<row r="1"><c r="A1" t="b"><v>yes</v></c></row>', None, "not a true/false"),
        ('<row r="2"><c r="A1"><v>1</v></c></row>', None, "row 2, cell A1"),
        ('<row r="3"/><row r="2"/>', None, "out of order"),
        ('<row r="1"><c r="A1"><v>1</v></c><c r="A1"><v>2</v></c></row>', None, "twice"),
        ('<row r="1"><c r="1A"><v>1</v></c></row>', None, "reference is not valid"),
        ('<row r="1"><c r="A1"><v>1</v></c>', None, "not a readable XLSX"),
    ],
)
def test_damaged_sheets_are_refused_with_where(sheet, strings, message):
    with pytest.raises(FileRefused) as refused:
        read(handmade(sheet, strings=strings))
    assert message in str(refused.value)


def test_a_doctype_is_refused_before_parsing():
    content = handmade('<row r="1"><c r="A1"><v>1</v></c></row>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY a "aaaa">]>', 1)
            target.writestr(item, data)
    with pytest.raises(FileRefused, match="not a readable XLSX"):
        read(out.getvalue())


def test_a_formula_with_a_cached_value_is_refused():
    content = handmade('<row r="1"><c r="A1"><f>1+1</f><v>2</v></c></row>')
    with pytest.raises(FileRefused, match="formulas"):
        read(content)


@pytest.mark.django_db
def test_upload_reports_spreadsheet_rows_and_applies_nothing(references):
    columns = TABLES["cost_code"].column_names
    header = "".join(
        f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for i, name in enumerate(columns)
    )
    sheet = (
        f'<row r="1">{header}</row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>03-300</t></is></c>'
        '<c r="G2"><v>600</v></c></row>'
        # row 3 is blank and not stored; row 4 names an unknown item (a number cell)
        '<row r="4"><c r="A4" t="inlineStr"><is><t>06-100</t></is></c>'
        '<c r="F4"><v>999999</v></c></row>'
    )
    upload = upload_preview(
        connection=references,
        table="cost_code",
        filename="codes.xlsx",
        content=handmade(sheet),
        user=None,
    )
    assert upload.counts == {"rows": 2, "create": 1, "update": 0, "unchanged": 0, "error": 1}
    assert [e["line"] for e in upload.preview["errors"]] == [4]
    assert "'999999': no item" in upload.preview["errors"][0]["messages"][0]
    assert upload.preview["creates"][0]["row"]["account_id"] == "600"
    assert CostCodeMapping.objects.count() == 0
    assert MappingUpload.objects.get().status == "refused"
