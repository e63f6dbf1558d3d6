"""Reading and writing mapping files: CSV and XLSX.

Reading accepts CSV in UTF-8 (with or without BOM) or Windows-1252, comma- or
semicolon-separated, and XLSX with one sheet (streamed by mappings/xlsx.py). Anything else gets
one `FileRefused` message and nothing is read further.

Writing guards against formula injection: every cell we write is text (ids, codes, dates), and
a text cell starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`.
Reading removes that `'` again, so an export re-imports unchanged. Only text cells are
guarded: a true number written as a number cell would be data, not a formula, but the mapping
tables have no numeric columns, so every cell here is text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


class FileRefused(Exception):
    """The whole file is unusable; `str(exc)` is the message shown to the admin."""


def max_upload_bytes() -> int:
    return int(getattr(settings, "MAPPINGS_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


def neutralise(text: str) -> str:
    return "'" + text if text and text.startswith(FORMULA_STARTS) else text


@dataclass
class SheetRows:
    """A file's header and an iterator of (line number, cells)."""

    header: list[str]
    rows: Iterator[tuple[int, list[object]]]
    file_format: str


def file_format_of(filename: str, content: bytes) -> str:
    name = filename.lower()
    if len(content) > max_upload_bytes():
        limit = max_upload_bytes() // (1024 * 1024)
        raise FileRefused(
            f"The file is {len(content) / (1024 * 1024):.1f} MB; the limit is {limit} MB. "
            "Split it into several files, or ask for the limit to be raised "
            "(MAPPINGS_UPLOAD_MAX_BYTES)."
        )
    if not content.strip():
        raise FileRefused("The file is empty.")
    if name.endswith(".xlsx") or content[:4] == b"PK\x03\x04":
        return "xlsx"
    if name.endswith((".xls", ".ods", ".numbers")):
        raise FileRefused("Only .csv and .xlsx files can be read: save the sheet as .xlsx.")
    if name.endswith((".csv", ".txt")):
        return "csv"
    raise FileRefused("This is not a CSV or XLSX file: upload a .csv or .xlsx file.")


def read(filename: str, content: bytes) -> SheetRows:
    fmt = file_format_of(filename, content)
    return read_xlsx(content) if fmt == "xlsx" else read_csv(content)


# Between preview and apply an upload is kept in one plain form whatever its format: CSV
# whose first column is the line number in the original file. Apply reads this instead of
# parsing an XLSX a second time (reading XML is slower than reading csv).
LINE_COLUMN = "__line__"


class CanonicalWriter:
    def __init__(self) -> None:
        self.out = io.StringIO(newline="")
        self.writer = csv.writer(self.out, lineterminator="\n")

    def start(self, header: list[str]) -> None:
        self.writer.writerow([LINE_COLUMN, *header])

    def add(self, line: int, cells: list[str]) -> None:
        self.writer.writerow([line, *cells])

    def content(self) -> bytes:
        return self.out.getvalue().encode("utf-8")


def read_canonical(content: bytes) -> SheetRows:
    reader = csv.reader(io.StringIO(content.decode("utf-8"), newline=""))
    header = next(reader)[1:]

    def rows() -> Iterator[tuple[int, list[object]]]:
        for cells in reader:
            yield int(cells[0]), cells[1:]

    return SheetRows(header=header, rows=rows(), file_format="canonical")


# CSV


def decode_csv(content: bytes) -> str:
    if b"\x00" in content[:65536]:
        raise FileRefused("This is not a CSV file (it contains binary data).")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            "The file's text encoding is not UTF-8 or Windows-1252: save it as "
            "'CSV UTF-8' and upload it again."
        ) from exc


def read_csv(content: bytes) -> SheetRows:
    text = decode_csv(content)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FileRefused("The file is empty.") from None
    except csv.Error as exc:
        raise FileRefused(f"The file is not readable as CSV: {exc}.") from None

    def rows() -> Iterator[tuple[int, list[object]]]:
        line = reader.line_num + 1
        try:
            for cells in reader:
                yield line, cells
                line = reader.line_num + 1
        except csv.Error as exc:
            raise FileRefused(f"Line {line} is not readable as CSV: {exc}.") from None

    return SheetRows(header=[str(h) for h in header], rows=rows(), file_format="csv")


# XLSX: read by the streaming reader in mappings/xlsx.py (openpyxl writes).


def read_xlsx(content: bytes) -> SheetRows:
    from mappings.xlsx import read_xlsx as read_sheet

    return read_sheet(content)


# Writing


def write_csv(columns: list[str], rows: Iterable[Iterable[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    # With a BOM, Excel opens UTF-8 correctly; the importer accepts it.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(columns: list[str], rows: Iterable[Iterable[str]], title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            cell.data_type = "s"  # text, never a formula or a number
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
