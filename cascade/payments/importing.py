"""Payments received before Cascade, from a CSV or XLSX file: date, payer, amount, invoice reference.

Every faulty line is reported with its number, and nothing is recorded unless the whole file is
right; the same file imported twice records nothing the second time (each line is refused as
already recorded). Each payment then settles as one recorded by hand: the invoice it names first,
then the payer's oldest open documents, the rest as a credit (actions.record_payment), so that
reminders never chase what was already paid.
"""

import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from cascade.accounts.models import Organisation
from cascade.billing.models import Invoice
from cascade.imports.cells import CellError, date_fr, decimal_fr, normalise

from .actions import PaymentError, check_amount, check_received_on, record_payment
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
        try:
            sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
            return [tuple(row) for row in sheet.iter_rows(values_only=True)]
        except (zipfile.BadZipFile, InvalidFileException, KeyError, IndexError, ValueError) as error:
            raise PaymentImportError([_("%(file)s: not a readable Excel workbook (.xlsx): save it again from your "
                                        "spreadsheet, or export it as CSV.") % {"file": path.name}]) from error
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Not UTF-8: Excel's default CSV encoding in France (Windows-1252).
        text = data.decode("cp1252", errors="strict")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    return [tuple(row) for row in csv.reader(io.StringIO(text), dialect)]


def read(path: Path, organisation: Organisation) -> list[PaymentLine]:
    """The file's payments, or PaymentImportError with every fault, line by line."""
    try:
        rows = _rows(path)
    except (OSError, UnicodeDecodeError, csv.Error, ValueError, KeyError) as error:
        raise PaymentImportError([_("%(file)s: not a readable CSV or XLSX file (%(error)s).") % {
            "file": path.name, "error": error}]) from None
    if not rows:
        raise PaymentImportError([_("%(file)s: the file is empty.") % {"file": path.name}])
    headings = [normalise(h) for h in rows[0]]
    index, faults = {}, []
    for key, names in COLUMNS.items():
        found = [i for i, h in enumerate(headings) if h in names]
        if found:
            index[key] = found[0]
        elif key != "invoice":
            faults.append(_("line 1: no column “%(name)s” (columns: date, payeur, montant, facture).") % {
                "name": names[0]})
    if faults:
        raise PaymentImportError(faults)
    customers = {}
    for org in Organisation.objects.filter(operator=organisation):
        customers.setdefault(normalise(org.name), []).append(org)
        if org.siret:
            customers.setdefault(org.siret, []).append(org)
    invoices = {i.number: i for i in Invoice.objects.filter(organisation=organisation)}
    lines, today = [], timezone.localdate()
    recorded = Counter(_key(p.received_on, p.payer_id, p.amount, _invoice_of(p.reference)) for p in Payment.objects
                       .filter(organisation=organisation, source=SOURCE).only("received_on", "payer_id", "amount",
                                                                              "reference"))
    for number, row in enumerate(rows[1:], start=2):
        cell = _cells(row, index)
        if all(v in (None, "") for v in row):
            continue
        problems = []
        try:
            received_on = check_received_on(date_fr(cell("date")), today)
        except CellError as error:
            problems.append(f"date : {_(error.problem)}")
        except PaymentError as error:
            problems.append(f"date : {error}")
        try:
            amount = check_amount(decimal_fr(cell("amount")))
            if amount <= 0:
                problems.append(_("montant: a payment is a positive amount."))
        except CellError as error:
            problems.append(f"montant : {_(error.problem)}")
        except PaymentError as error:
            problems.append(f"montant : {error}")
        payer_text = str(cell("payer") or "").strip()
        matches = customers.get(payer_text) or customers.get(normalise(payer_text)) or []
        payer = matches[0] if len(matches) == 1 else None
        if payer is None and not matches:
            problems.append(_("payeur: “%(payer)s” is not one of the organisation’s occupants.") % {
                "payer": payer_text})
        elif payer is None:
            problems.append(_("payeur: “%(payer)s” is ambiguous: give its SIRET.") % {"payer": payer_text})
        invoice_text = str(cell("invoice") or "").strip()
        invoice = invoices.get(invoice_text) if invoice_text else None
        if invoice_text and invoice is None:
            problems.append(_("facture: no invoice “%(number)s” from %(organisation)s.") % {
                "number": invoice_text, "organisation": organisation.name})
        elif invoice is not None and payer is not None and invoice.customer_id != payer.pk:
            problems.append(_("facture: %(number)s was issued to %(customer)s, not to %(payer)s.") % {
                "number": invoice_text, "customer": invoice.customer.name, "payer": payer.name})
        if problems:
            faults += [_line(number, p) for p in problems]
            continue
        # The same payment (day, payer, amount, invoice) already imported, from this file or a copy of it.
        key = _key(received_on, payer.pk, amount, invoice_text)
        if recorded[key] > 0:
            recorded[key] -= 1
            faults.append(_line(number, _("already imported (same date, payer, amount and invoice).")))
            continue
        lines.append(PaymentLine(number, received_on, payer, amount, invoice))
    if faults:
        raise PaymentImportError(faults)
    return lines


def _line(number: int, problem: str) -> str:
    return _("line %(number)s: %(problem)s") % {"number": number, "problem": problem}


def _key(received_on: date, payer_id: int, amount: Decimal, invoice: str) -> tuple:
    return received_on, payer_id, amount, invoice


def _invoice_of(reference: str) -> str:
    """The invoice number of an imported payment's reference ("file name:line number invoice")."""
    _place, _colon, rest = reference.rpartition(":")
    return rest.partition(" ")[2].strip()


def _cells(row: tuple[object, ...], index: dict[str, int]):
    return lambda key: row[index[key]] if key in index and index[key] < len(row) else None


def _reference(line: int, invoice: str, path: Path) -> str:
    return f"{path.name}:{line}" + (f" {invoice}" if invoice else "")


@transaction.atomic
def import_payments(path: Path, organisation: Organisation, *, allow_credit: bool = False,
                    acting_user=None) -> list[Payment]:
    """Record every payment of the file, or none (PaymentImportError lists each fault). A payment larger
    than all its payer owes is a fault, unless `allow_credit` (the rest then stays as a credit)."""
    lines = read(path, organisation)
    payments, faults = [], []
    for line in lines:
        try:
            payments.append(record_payment(
                organisation, line.payer, amount=line.amount, received_on=line.received_on, means=Means.TRANSFER,
                reference=_reference(line.line, line.invoice.number if line.invoice else "", path),
                invoices=[line.invoice] if line.invoice else [], source=SOURCE, allow_credit=allow_credit,
                acting_user=acting_user))
        except PaymentError as error:
            faults.append(_line(line.line, str(error)))
    if faults:
        transaction.set_rollback(True)
        raise PaymentImportError(faults)
    return payments
