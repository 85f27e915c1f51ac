"""Invoices and their lines for a period, as rows for an accountant: CSV (French Excel: `;`, decimal
comma, UTF-8 with BOM) or XLSX (real numbers and dates)."""

import csv
import io
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import Workbook

from cascade.text import printable

from .models import Invoice, InvoiceLine

INVOICE_COLUMNS = ["Numéro", "Type", "Date", "Échéance", "Client", "SIRET client", "Lieu", "Début période",
                   "Fin période", "Facture corrigée", "Total HT", "TVA", "Total TTC"]
LINE_COLUMNS = ["Numéro", "Date", "Client", "Lieu", "Ligne", "Composante", "Jours", "Jours de la période",
                "Montant HT", "Taux TVA"]
KINDS = {"invoice": "Facture", "credit_note": "Avoir", "payment_notice": "Avis d'échéance"}


def invoice_rows(invoices: Iterable[Invoice]) -> list[list]:
    return [[i.number, KINDS[i.kind], i.issue_date, i.due_date, i.buyer.get("name", ""), i.buyer.get("siret") or "",
             i.place.name if i.place_id else "", i.period_start, i.period_end - timedelta(days=1),
             i.corrects.number if i.corrects_id else "", i.total_excl_vat, i.total_vat, i.total_incl_vat]
            for i in invoices]


def line_rows(lines: Iterable[InvoiceLine]) -> list[list]:
    return [[line.invoice.number, line.invoice.issue_date, line.invoice.buyer.get("name", ""),
             line.invoice.place.name if line.invoice.place_id else "", line.label, line.get_component_display(),
             line.days, line.period_days, line.amount_excl_vat,
             line.vat_rate if line.vat_rate is not None else "exonéré"] for line in lines]


def _french(value) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def as_csv(columns: list[str], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([printable(_french(v), multiline=False) for v in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode()


def as_xlsx(title: str, columns: list[str], rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(columns)
    for row in rows:
        # Amounts stay Decimals: written as the exact numbers they are.
        sheet.append([printable(v) if isinstance(v, str) else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(cell.value, date):
                cell.number_format = "DD/MM/YYYY"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
