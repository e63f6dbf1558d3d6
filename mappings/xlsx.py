"""A streaming reader for one-sheet XLSX uploads.

openpyxl (even in read-only mode with `values_only=True`) builds a cell object per cell and
was the larger part of a 100,000-row import. This reads the sheet's XML straight from the
zip member with the C-accelerated `xml.etree.ElementTree.XMLPullParser`, one row at a time,
and gives the same values openpyxl would, except that numbers are `Decimal` made from the
cell's own text (the XML holds the decimal digits; a float would round them):

- shared strings (`t="s"`), inline strings (`t="inlineStr"`, rich text runs joined, phonetic
  runs left out), formula-string results (`t="str"`) and error cells (`t="e"`) as text;
- booleans (`t="b"`) as bool; ISO dates (`t="d"`) as datetime;
- numbers (`t="n"` or no type) as Decimal, or as a date/time when the cell's style has a date
  number format (the workbook's 1900 or 1904 date system is honoured);
- a cell's column comes from its reference ("C5"), so skipped (empty) cells keep the others
  in place; a row's number comes from its `r`, so errors name the spreadsheet's own row.

openpyxl is still the writer (exports, templates) and the source of the number-format rules
(`is_date_format`), so both agree on what is a date. Anything unreadable raises `FileRefused`
with the row and cell it was found in; the caller validates the whole file before it writes
anything, so nothing is ever half-applied.
"""

from __future__ import annotations

import posixpath
import pyexpat
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree as ET

from mappings.files import FileRefused, SheetRows

MAIN_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # "Strict Open XML"
)
REL_NAMESPACES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
CHUNK = 1 << 16
MAX_COLUMN = 16384  # XFD, Excel's last column
DAMAGED = "This is not a readable XLSX file (it may be damaged)."

# Formulas and merged cells are refused (see files.py); a DOCTYPE has no place in a
# spreadsheet part and is refused before any entity could be expanded.
_PROBLEM = re.compile(rb"<(?:\w+:)?(f|mergeCell)[\s>/]|<!(DOCTYPE|ENTITY)")
_DTD = re.compile(rb"()<!(DOCTYPE|ENTITY)")
FORMULAS = (
    "The spreadsheet contains formulas. Replace them with their values "
    "(copy, then paste as values) and upload it again."
)
MERGED = (
    "The spreadsheet has merged cells. Unmerge them so each value sits in "
    "its own cell, and upload it again."
)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _chunks(archive: zipfile.ZipFile, member: str, sheet: bool = False) -> Iterator[bytes]:
    """The member's bytes in chunks, refusing DTDs (and in a sheet, formulas and merged
    cells) on the way: a formula is refused even where it has a cached value."""
    problem = _PROBLEM if sheet else _DTD
    tail = b""
    try:
        with archive.open(member) as stream:
            while chunk := stream.read(CHUNK):
                match = problem.search(tail + chunk)
                if match:
                    if match.group(1) == b"f":  # group 1: a sheet's <f> or <mergeCell>
                        raise FileRefused(FORMULAS)
                    if match.group(1):
                        raise FileRefused(MERGED)
                    raise FileRefused(DAMAGED)
                tail = chunk[-32:]
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise FileRefused(DAMAGED) from exc


def _parse(archive: zipfile.ZipFile, member: str) -> ET.Element:
    """A small part (workbook, relationships, styles) as a tree."""
    parser = ET.XMLParser()  # noqa: S314 - _chunks refuses any DTD before it is parsed
    try:
        for chunk in _chunks(archive, member):
            parser.feed(chunk)
        return parser.close()
    except ET.ParseError as exc:
        raise FileRefused(DAMAGED) from exc


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """id -> (type, member path) of a part's relationships (none if it has no .rels)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", name + ".rels")
    if rels not in archive.NameToInfo:
        return {}
    found = {}
    for rel in _parse(archive, rels).iter(PACKAGE_RELS):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), posixpath.normpath(path))
    return found


def _of_type(rels: dict[str, tuple[str, str]], suffix: str) -> str | None:
    return next((path for kind, path in rels.values() if kind.endswith(suffix)), None)


def _text_of(element: ET.Element, t_tag: str, r_tag: str) -> str:
    """The text of an `<si>` or `<is>`: its `<t>`, then each rich-text run's `<t>`."""
    parts = []
    for child in element:
        if child.tag == t_tag:
            parts.append(child.text or "")
        elif child.tag == r_tag:
            parts.append(child.findtext(t_tag) or "")
    return "".join(parts)


def _shared_strings(archive: zipfile.ZipFile, member: str | None, ns: str) -> list[str]:
    if member is None or member not in archive.NameToInfo:
        return []
    si, t, r = f"{{{ns}}}si", f"{{{ns}}}t", f"{{{ns}}}r"
    strings = []
    parser = ET.XMLPullParser(events=("end",))
    try:
        for chunk in _chunks(archive, member):
            parser.feed(chunk)
            for _event, element in parser.read_events():
                if element.tag == si:
                    # openpyxl's reading of Excel's escaped underscore; kept identical.
                    strings.append(_text_of(element, t, r).replace("x005F_", ""))
                    element.clear()
        parser.close()
    except ET.ParseError as exc:
        raise FileRefused(DAMAGED) from exc
    return strings


def _date_styles(archive: zipfile.ZipFile, member: str | None, ns: str) -> tuple[set, set]:
    """Indexes of the cell styles (`s`) whose number format is a date, and a duration."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format

    if member is None or member not in archive.NameToInfo:
        return set(), set()
    root = _parse(archive, member)
    custom = {
        fmt.get("numFmtId"): fmt.get("formatCode")
        for fmt in root.iterfind(f"{{{ns}}}numFmts/{{{ns}}}numFmt")
    }
    dates, durations = set(), set()
    for index, xf in enumerate(root.iterfind(f"{{{ns}}}cellXfs/{{{ns}}}xf")):
        fmt_id = xf.get("numFmtId", "0")
        fmt = custom.get(fmt_id)
        if fmt is None and fmt_id.isdigit():
            fmt = BUILTIN_FORMATS.get(int(fmt_id))
        if is_date_format(fmt):
            dates.add(str(index))
        if is_timedelta_format(fmt):
            durations.add(str(index))
    return dates, durations


_COLUMN = re.compile(r"[A-Za-z]{1,3}[1-9][0-9]*$")


def column_index(letters: str) -> int:
    """0-based index of a column's letters ("A" -> 0), or -1 if they are no column."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1 if 0 < index <= MAX_COLUMN else -1


class _Sheet:
    """The sheet's XML through expat's callbacks: no element tree is built, so memory stays
    flat however long the sheet, and the Python work per cell is a few calls."""

    def __init__(self, archive: zipfile.ZipFile, member: str, ns: str, book: dict) -> None:
        self.archive, self.member = archive, member
        self.strings: list[str] = book["strings"]
        self.dates: set[str] = book["dates"]
        self.durations: set[str] = book["durations"]
        self.epoch = book["epoch"]
        self.columns: dict[str, int] = {}
        # expat names elements "namespace local" (namespace_separator=" ").
        self.row_tag, self.c_tag, self.v_tag = f"{ns} row", f"{ns} c", f"{ns} v"
        self.is_tag, self.t_tag, self.phonetic_tag = f"{ns} is", f"{ns} t", f"{ns} rPh"
        self.number_of_row = self.previous_row = 0
        self.row_text: str | None = "0"

    def damaged(self, row: int, ref: str | None, what: str) -> FileRefused:
        where = f"row {row}, cell {ref}" if ref else f"row {row}"
        return FileRefused(f"The spreadsheet cannot be read at {where}: {what}.")

    def column(self, ref: str, row: int) -> int:
        """The 0-based column of a cell reference such as "C5", which must be in this row."""
        letters = ref.rstrip("0123456789")
        found = self.columns.get(letters)
        if found is None:
            found = column_index(letters.upper()) if _COLUMN.match(ref) else -1
            if found < 0:
                raise self.damaged(row, ref, "the cell reference is not valid")
            self.columns[letters] = found
        digits = ref[len(letters) :]
        if digits != self.row_text:
            if self.row_text is None and digits and int(digits) > self.previous_row:
                # A <row> without its number: its cells' references say which row it is.
                self.number_of_row, self.row_text = int(digits), digits
            else:
                raise self.damaged(row, ref, "the cell reference names another row")
        return found

    def number(self, text: str, style: str | None, row: int, ref: str | None):
        if style is not None and style in self.dates:
            from openpyxl.utils.datetime import from_excel

            try:
                return from_excel(float(text), self.epoch, timedelta=style in self.durations)
            except (ValueError, OverflowError):
                raise self.damaged(row, ref, f"{text!r} is not a date") from None
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise self.damaged(row, ref, f"{text!r} is not a number")
        return value

    def value(self, cell: dict[str, str], text: str | None, row: int, ref: str | None):
        kind = cell.get("t")
        if kind == "inlineStr":
            return text
        if not text:
            return None
        if kind is None or kind == "n":
            return self.number(text, cell.get("s"), row, ref)
        if kind == "s":
            try:
                return self.strings[int(text)]
            except (ValueError, IndexError):
                raise self.damaged(row, ref, "the shared text it names does not exist") from None
        if kind == "b":
            if text not in ("0", "1"):
                raise self.damaged(row, ref, f"{text!r} is not a true/false value")
            return text == "1"
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            try:
                return from_ISO8601(text)
            except ValueError:
                raise self.damaged(row, ref, f"{text!r} is not a date") from None
        if kind in ("str", "e"):
            return text
        raise self.damaged(row, ref, f"unknown cell type {kind!r}")

    def rows(self) -> Iterator[tuple[int, list[object]]]:
        """(row number, values) of every row the sheet stores, in order."""
        parser = pyexpat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        row_tag, c_tag, v_tag, t_tag = self.row_tag, self.c_tag, self.v_tag, self.t_tag
        is_tag, phonetic_tag = self.is_tag, self.phonetic_tag
        value, column, damaged = self.value, self.column, self.damaged
        ready: list[tuple[int, list[object]]] = []
        parts: list[str] = []
        collect = parts.append
        # The callbacks share this state (closures are cheaper than attributes per cell).
        cell: dict[str, str] | None = None
        cells: list[object] = []
        at = -1
        in_inline = in_phonetic = False

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal cell, in_inline, in_phonetic, cells, at
            if name == c_tag:
                cell = attrs
                parts.clear()
                in_inline = False
            elif name == v_tag:
                if cell is not None:
                    parser.CharacterDataHandler = collect
            elif name == t_tag:
                if in_inline and not in_phonetic:
                    parser.CharacterDataHandler = collect
            elif name == is_tag:
                in_inline = cell is not None and cell.get("t") == "inlineStr"
            elif name == row_tag:
                given, previous = attrs.get("r"), self.number_of_row
                self.previous_row = previous
                if given is None:
                    # Numbered by its first cell's reference, else the row after the last.
                    self.number_of_row, self.row_text = previous + 1, None
                elif given.isdigit() and int(given) > previous:
                    self.number_of_row = int(given)
                    self.row_text = str(self.number_of_row)
                else:
                    what = f"row number {given!r} is missing or out of order"
                    raise damaged(previous + 1, None, what)
                cells = []
                at = -1
            elif name == phonetic_tag:
                in_phonetic = True

        def end(name: str) -> None:
            nonlocal cell, at, in_phonetic
            if name in (v_tag, t_tag):
                parser.CharacterDataHandler = None
            elif name == c_tag:
                this, cell = cell, None
                ref = this.get("r")
                at = column(ref, self.number_of_row) if ref else at + 1
                text = "".join(parts) if parts else None
                if text is None and in_inline:
                    text = ""  # <is><t/></is>: an empty text, as openpyxl reads it
                found = value(this, text, self.number_of_row, ref)
                width = len(cells)
                if at == width:
                    cells.append(found)
                elif at > width:
                    cells.extend([None] * (at - width))
                    cells.append(found)
                elif cells[at] is None:
                    cells[at] = found
                else:
                    raise damaged(self.number_of_row, ref, "the cell appears twice")
            elif name == row_tag:
                ready.append((self.number_of_row, cells))
            elif name == phonetic_tag:
                in_phonetic = False

        parser.StartElementHandler = start
        parser.EndElementHandler = end
        try:
            for chunk in _chunks(self.archive, self.member, sheet=True):
                parser.Parse(chunk, False)
                yield from ready
                ready.clear()
            parser.Parse(b"", True)
            yield from ready
        except pyexpat.ExpatError as exc:
            raise FileRefused(DAMAGED) from exc


def _book(archive: zipfile.ZipFile) -> tuple[list[tuple[str, str]], str, dict]:
    """The workbook's sheets [(name, member)], its namespace and what cells need."""
    root_rels = _relationships(archive, "")
    workbook = _of_type(root_rels, "/officeDocument") or "xl/workbook.xml"
    if workbook not in archive.NameToInfo:
        raise FileRefused(DAMAGED)
    root = _parse(archive, workbook)
    ns = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    if ns not in MAIN_NAMESPACES or _local(root.tag) != "workbook":
        raise FileRefused(DAMAGED)
    rels = _relationships(archive, workbook)
    sheets = []
    for sheet in root.iterfind(f"{{{ns}}}sheets/{{{ns}}}sheet"):
        rel_id = next(filter(None, (sheet.get(f"{{{r}}}id") for r in REL_NAMESPACES)), "")
        sheets.append((sheet.get("name", ""), rels.get(rel_id, ("", ""))))
    properties = root.find(f"{{{ns}}}workbookPr")
    date1904 = properties is not None and properties.get("date1904", "") in ("1", "true")
    from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH

    dates, durations = _date_styles(archive, _of_type(rels, "/styles"), ns)
    info = {
        "strings": _shared_strings(archive, _of_type(rels, "/sharedStrings"), ns),
        "dates": dates,
        "durations": durations,
        "epoch": MAC_EPOCH if date1904 else WINDOWS_EPOCH,
    }
    return [(name, rel) for name, rel in sheets], ns, info


def read_xlsx(content: bytes) -> SheetRows:
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FileRefused(DAMAGED) from exc
    sheets, ns, book = _book(archive)
    if len(sheets) != 1:
        if not sheets:
            raise FileRefused("The workbook has no sheet.")
        names = ", ".join(repr(name) for name, _rel in sheets)
        raise FileRefused(
            f"The workbook has {len(sheets)} sheets ({names}); keep only the sheet to import."
        )
    _name, (kind, member) = sheets[0]
    if not kind.endswith("/worksheet") or member not in archive.NameToInfo:
        raise FileRefused("The workbook's only sheet is not a worksheet with cells (a chart?).")
    rows = _Sheet(archive, member, ns, book).rows()
    header = None
    for _number, cells in rows:
        if any(v not in (None, "") for v in cells):
            header = ["" if v is None else str(v) for v in cells]
            break
    if header is None:
        raise FileRefused("The file is empty.")
    while header and header[-1] == "":
        header.pop()
    return SheetRows(header=header, rows=rows, file_format="xlsx")
