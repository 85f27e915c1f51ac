"""Write the demo's November 2026 bank statement: cascade/demo/releve-2026-11.camt053.xml (and its OFX twin).

Deterministic: it loads the demo (the workbook, billed up to 2026-11-30, the October direct debit of
one occupant) in a throw-away database and writes the statement from the invoices issued in November:
most are paid by a transfer quoting their number; one is paid from the occupant's IBAN on record
without the number, one by name from an account not on record, one with an amount that matches none
of the occupant's documents (it stays a proposal); three are not paid; the October direct debit comes
back unpaid (AM04, insufficient funds), and the bank charges its fee.

    .venv/bin/python scripts/make_demo_statement.py
"""

import os
import sys
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "cascade" / "demo" / "releve-2026-11.camt053.xml"
OFX_OUT = REPO / "cascade" / "demo" / "releve-2026-11.ofx"
DEMO_DAY = date(2026, 11, 30)
# An account of the occupant that is not on its record (it pays from its manager's personal account).
OTHER_ACCOUNT = "FR1420041010050500013M02606"


def main() -> None:
    os.environ["CASCADE_VAR_DIR"] = tempfile.mkdtemp(prefix="cascade-demo-statement-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cascade.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cascade.billing.actions import bill_until
    from cascade.imports.services import import_workbook
    from cascade.payments import demo

    report = import_workbook(str(REPO / "cascade" / "demo" / "operator-workbook.xlsx"))
    bill_until(DEMO_DAY)
    operator = report.operator
    debit = demo.record_demo_direct_debit(operator)
    movements = november_movements(operator, debit)
    OUT.write_bytes(demo.camt053(operator.iban, "TREMPLIN-RELEVE-2026-11", 11, date(2026, 11, 1), DEMO_DAY,
                                 Decimal("18250.00"), movements))
    closing = Decimal("18250.00") + sum(m.amount for m in movements)
    bban = operator.iban[4:]
    OFX_OUT.write_bytes(demo.ofx(bban[:5], bban[5:10], bban[10:21], bban[21:], date(2026, 11, 1), DEMO_DAY,
                                 movements, closing))
    print(f"wrote {OUT.relative_to(REPO)} and {OFX_OUT.relative_to(REPO)}: {len(movements)} movements")


def november_movements(operator, debit) -> list:
    from cascade.billing.models import DocumentKind, Invoice
    from cascade.payments import matching
    from cascade.payments.demo import Movement
    from cascade.payments.statements import open_documents_of

    invoices = list(Invoice.objects.filter(organisation=operator, kind=DocumentKind.INVOICE, issue_date__year=2026,
                                           issue_date__month=11).select_related("customer").order_by("number"))

    def paid_on(n: int, invoice) -> date:
        # Within November, the statement's period: a statement books nothing after its last day.
        return min(max(invoice.issue_date + timedelta(days=1 + n % 20), date(2026, 11, 2)), DEMO_DAY)

    def unique_amount(invoice, day: date) -> bool:
        documents = open_documents_of(operator, [invoice.customer_id], day)
        found = matching.only_document_of_amount(invoice.total_incl_vat, documents, day)
        return found is not None and found.key == invoice.pk

    by_iban = next(i for n, i in enumerate(invoices) if i.customer.iban and unique_amount(i, paid_on(n, i)))
    by_name = next(i for n, i in enumerate(invoices) if not i.customer.iban and unique_amount(i, paid_on(n, i))
                   and "—" not in i.customer.name)
    wrong_amount = next(i for i in invoices if i.customer.iban and i not in (by_iban, by_name)
                        and i.customer_id != by_iban.customer_id)
    rest = [i for i in invoices if i not in (by_iban, by_name, wrong_amount)]
    unpaid = {rest[12], rest[45], rest[78]}
    movements = []
    for n, invoice in enumerate(invoices):
        day, customer, amount = paid_on(n, invoice), invoice.customer, invoice.total_incl_vat
        if invoice in unpaid:
            continue
        if invoice == by_iban:
            movements.append(Movement(day, amount, customer.name.upper(), customer.iban, "LOYER NOVEMBRE"))
        elif invoice == by_name:
            movements.append(Movement(day, amount, _bank_name(customer.name), OTHER_ACCOUNT,
                                      "REDEVANCE NOV 2026"))
        elif invoice == wrong_amount:
            movements.append(Movement(day, (amount - Decimal("25.00")).max(Decimal("10.00")), customer.name,
                                      customer.iban, "PARTICIPATION NOVEMBRE"))
        else:
            remittance = (f"FACTURE {invoice.number}", f"Redevance novembre {invoice.number.replace('-', '')}",
                          f"{invoice.number} {customer.name}")[n % 3]
            movements.append(Movement(day, amount, customer.name, customer.iban, remittance))
    if debit is not None:
        movements.append(Movement(date(2026, 11, 4), -debit.amount, debit.payer.name, debit.payer.iban,
                                  f"RETOUR PRLV SEPA {debit.reference}", end_to_end_id=debit.reference,
                                  code="PMNT/IDDT/UPDD", return_reason="AM04"))
    movements.append(Movement(DEMO_DAY, Decimal("-14.50"), "", "", "FRAIS TENUE DE COMPTE NOVEMBRE",
                              code="ACMT/MDOP/CHRG"))
    return sorted(movements, key=lambda m: (m.booked_on, -m.amount, m.remittance))


def _bank_name(name: str) -> str:
    """As a bank writes a payer: capitals, no accents."""
    import unicodedata

    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().upper()


if __name__ == "__main__":
    main()
