"""Report exports: XLSX (one sheet per view, typed numbers in the currency's format, frozen
header, auto-filter) and CSV. Text cells that a spreadsheet would run as a formula are
prefixed with ``'``. The XLSX is written row by row by ``xlsx_stream`` (see there why not
openpyxl's write-only mode) to a temporary file, memory flat for 50,000 rows, then
streamed."""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse

from exceptions_ui import xlsx_stream
from reconciliation.report_selectors import FIGURES

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CURRENCY_FORMATS = {
    "USD": '"$"#,##0.00;[Red]-"$"#,##0.00',
    "CAD": '"CA$"#,##0.00;[Red]-"CA$"#,##0.00',
    "EUR": '"€"#,##0.00;[Red]-"€"#,##0.00',
    "GBP": '"£"#,##0.00;[Red]-"£"#,##0.00',
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_text(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def money_format(currency: str) -> str:
    return CURRENCY_FORMATS.get(currency, f'#,##0.00 "{currency}";[Red]-#,##0.00 "{currency}"')


def figure_headers() -> list[str]:
    out = []
    for figure in FIGURES:
        out += [f"{figure.title()} Procore", f"{figure.title()} ERP", f"{figure.title()} variance"]
    return out


def figure_values(figures) -> list[Decimal]:
    out = []
    for figure in FIGURES:
        ours, theirs = figures[f"{figure}_procore"], figures[f"{figure}_erp"]
        out += [ours, theirs, ours - theirs]
    return out


class Sheet:
    """A view as a table: its title, text columns, and rows of (texts, currency, figures)."""

    def __init__(self, title: str, columns: list[str], rows: Iterable[tuple[list, str, dict]]):
        self.title, self.columns, self.rows = title, columns, rows

    @property
    def headers(self) -> list[str]:
        return [*self.columns, "Currency", *figure_headers()]


def xlsx_response(sheets: list[Sheet], filename: str) -> FileResponse:
    """Sheets written row by row into a temporary file (memory flat), then streamed."""
    wb = xlsx_stream.Workbook()
    for sheet in sheets:
        wb.add_sheet(sheet.title, sheet.headers, _typed_rows(sheet))
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    wb.save(tmp)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX)


def _typed_rows(sheet: Sheet):
    formats: dict[str, str] = {}
    for texts, currency, figures in sheet.rows:
        fmt = formats.setdefault(currency, money_format(currency))
        yield (
            [*(safe_text(t) for t in texts), safe_text(currency)],
            [(value, fmt) for value in figure_values(figures)],
        )


def _csv_lines(sheet: Sheet) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf)

    def flush() -> str:
        out = buf.getvalue()
        buf.seek(0)
        buf.truncate()
        return out

    yield "\ufeff"
    writer.writerow(sheet.headers)
    for texts, currency, figures in sheet.rows:
        writer.writerow(
            [safe_text(t) for t in texts] + [safe_text(currency), *figure_values(figures)]
        )
        if buf.tell() > 65536:
            yield flush()
    yield flush()


def csv_response(sheet: Sheet, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(sheet), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response
