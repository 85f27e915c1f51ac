"""Payments received before Cascade, from a CSV or XLSX file: date, payer, amount, invoice reference.

Every faulty line is reported with its number, and nothing is recorded unless the whole file is
right; the same file imported twice records nothing the second time (each line is refused as
already recorded). Each payment then settles as one recorded by hand: the invoice it names first,
then the payer's oldest open documents, the rest as a credit (actions.record_payment), so that
reminders never chase what was already paid.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from openpyxl import load_workbook

from cascade.accounts.models import Organisation
from cascade.billing.models import Invoice
from cascade.imports.cells import CellError, date_fr, decimal_fr, normalise

from .actions import PaymentError, record_payment
from .models import Means, Payment

# Column headings accepted, French and English, compared without case or accents.
COLUMNS = {"date": ("date", "date de paiement", "date du paiement"),
           "payer": ("payeur", "payer", "client", "occupant"),
           "amount": ("montant", "amount"),
           "invoice": ("facture", "invoice", "reference facture", "n° facture", "numero de facture")}
SOURCE = "import"


class PaymentImportError(Exception):
    def __init__(self, faults: list[str]):
        super().__init__("\n".join(faults))
        self.faults = faults


@dataclass(frozen=True)
class PaymentLine:
    line: int
    received_on: date
    payer: Organisation
    amount: Decimal
    invoice: Invoice | None


def _rows(path: Path) -> list[tuple[object, ...]]:
    if path.suffix.lower() == ".xlsx":
        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        return [tuple(row) for row in sheet.iter_rows(values_only=True)]
    text = path.read_bytes().decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    return [tuple(row) for row in csv.reader(io.StringIO(text), dialect)]


def read(path: Path, organisation: Organisation) -> list[PaymentLine]:
    """The file's payments, or PaymentImportError with every fault, line by line."""
    try:
        rows = _rows(path)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as error:
        raise PaymentImportError([f"{path.name}: not a readable CSV or XLSX file ({error})"]) from None
    if not rows:
        raise PaymentImportError([f"{path.name}: the file is empty"])
    headings = [normalise(h) for h in rows[0]]
    index, faults = {}, []
    for key, names in COLUMNS.items():
        found = [i for i, h in enumerate(headings) if h in names]
        if found:
            index[key] = found[0]
        elif key != "invoice":
            faults.append(f"line 1: no column {names[0]!r} (columns: date, payeur, montant, facture)")
    if faults:
        raise PaymentImportError(faults)
    customers = {}
    for org in Organisation.objects.filter(operator=organisation):
        customers.setdefault(normalise(org.name), []).append(org)
        if org.siret:
            customers.setdefault(org.siret, []).append(org)
    invoices = {i.number: i for i in Invoice.objects.filter(organisation=organisation)}
    lines = []
    for number, row in enumerate(rows[1:], start=2):
        cell = _cells(row, index)
        if all(v in (None, "") for v in row):
            continue
        problems = []
        try:
            received_on = date_fr(cell("date"))
        except CellError as error:
            problems.append(f"date: {error.problem}")
        try:
            amount = decimal_fr(cell("amount"))
            if amount <= 0:
                problems.append("montant: a payment is a positive amount")
        except CellError as error:
            problems.append(f"montant: {error.problem}")
        payer_text = str(cell("payer") or "").strip()
        matches = customers.get(payer_text) or customers.get(normalise(payer_text)) or []
        payer = matches[0] if len(matches) == 1 else None
        if payer is None:
            problems.append(f"payeur: {payer_text!r} is " + ("not one of the organisation's occupants" if not matches
                                                            else "ambiguous: give its SIRET"))
        invoice_text = str(cell("invoice") or "").strip()
        invoice = invoices.get(invoice_text) if invoice_text else None
        if invoice_text and invoice is None:
            problems.append(f"facture: no invoice {invoice_text!r} from {organisation.name}")
        elif invoice is not None and payer is not None and invoice.customer_id != payer.pk:
            problems.append(f"facture: {invoice_text} was issued to {invoice.customer.name}, not to {payer.name}")
        if problems:
            faults += [f"line {number}: {p}" for p in problems]
            continue
        if Payment.objects.filter(organisation=organisation, payer=payer, received_on=received_on, amount=amount,
                                  source=SOURCE, reference=_reference(number, invoice_text, path)).exists():
            faults.append(f"line {number}: already imported")
            continue
        lines.append(PaymentLine(number, received_on, payer, amount, invoice))
    if faults:
        raise PaymentImportError(faults)
    return lines


def _cells(row: tuple[object, ...], index: dict[str, int]):
    return lambda key: row[index[key]] if key in index and index[key] < len(row) else None


def _reference(line: int, invoice: str, path: Path) -> str:
    return f"{path.name}:{line}" + (f" {invoice}" if invoice else "")


@transaction.atomic
def import_payments(path: Path, organisation: Organisation, *, acting_user=None) -> list[Payment]:
    """Record every payment of the file, or none (PaymentImportError lists each fault)."""
    lines = read(path, organisation)
    payments, faults = [], []
    for line in lines:
        try:
            payments.append(record_payment(
                organisation, line.payer, amount=line.amount, received_on=line.received_on, means=Means.TRANSFER,
                reference=_reference(line.line, line.invoice.number if line.invoice else "", path),
                invoices=[line.invoice] if line.invoice else [], source=SOURCE, acting_user=acting_user))
        except PaymentError as error:
            faults.append(f"line {line.line}: {error}")
    if faults:
        transaction.set_rollback(True)
        raise PaymentImportError(faults)
    return payments
