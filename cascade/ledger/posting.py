"""Posting: every document not yet in the ledger becomes its balanced entry, numbered without gaps per
journal and year. Idempotent (each document posts once: `Entry.source` is unique per organisation) and
run after billing (`cascade bill`, `cascade tick`, the demo) and before each export.

A monthly run of 10 000 invoices posts 10 000 entries and about 40 000 lines: documents are read as
plain values and entries written with `cascade.bulk.insert`, a few statements for the whole batch.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from cascade import bulk
from cascade.accounts.models import Organisation
from cascade.billing.models import DocumentKind, Invoice, InvoiceLine
from cascade.billing.vat import vat_breakdown
from cascade.payments.models import Deposit, Payment

from . import postings
from .models import Entry, EntryLine, SupplierBill
from .postings import Draft, Party, RevenueLine

KIND_LABELS = {DocumentKind.INVOICE: "Facture", DocumentKind.CREDIT_NOTE: "Avoir",
               DocumentKind.PAYMENT_NOTICE: "Avis d'échéance"}


@dataclass(frozen=True)
class _Pending:
    source: str
    draft: Draft
    links: dict  # invoice_id, payment_id, deposit_id or supplier_bill_id


def customer(pk: int, name: str) -> Party:
    return Party(f"C{pk:05d}", name)


def supplier(pk: int | None, name: str) -> Party:
    return Party(f"F{pk:05d}" if pk else ("F" + slugify(name).replace("-", "").upper())[:20], name)


def post_pending(organisation: Organisation | None = None) -> int:
    """Post every document not yet posted, of one organisation or of all; the number of entries posted."""
    if organisation is not None:
        return _post_organisation(organisation.pk)
    sellers = set(Invoice.objects.filter(entries__isnull=True).values_list("organisation_id", flat=True).distinct())
    sellers |= set(Payment.objects.values_list("organisation_id", flat=True).distinct())
    sellers |= set(Deposit.objects.filter(received_on__isnull=False).values_list("organisation_id", flat=True))
    sellers |= set(SupplierBill.objects.filter(entries__isnull=True).values_list("organisation_id", flat=True))
    return sum(_post_organisation(pk) for pk in sorted(sellers))


@transaction.atomic
def _post_organisation(organisation_id: int) -> int:
    # One poster at a time per organisation: the last numbers read below stay the last.
    Organisation.objects.select_for_update().filter(pk=organisation_id).exists()
    pending = [p for p in (*_invoices(organisation_id), *_payments(organisation_id), *_deposits(organisation_id),
                           *_bills(organisation_id)) if p.draft.lines]
    if not pending:
        return 0
    pending.sort(key=lambda p: (p.draft.date, p.draft.journal, p.draft.piece_ref, p.source))
    last = {(j, y): n for j, y, n in Entry.objects.filter(organisation_id=organisation_id).values(
        "journal", "year").annotate(n=Max("number")).values_list("journal", "year", "n")}
    now = timezone.now()
    entries = []
    for item in pending:
        key = (item.draft.journal, item.draft.date.year)
        last[key] = last.get(key, 0) + 1
        entries.append(Entry(organisation_id=organisation_id, journal=key[0], year=key[1], number=last[key],
                             date=item.draft.date, label=item.draft.label, piece_ref=item.draft.piece_ref[:60],
                             piece_date=item.draft.piece_date, source=item.source, posted_at=now, **item.links))
    bulk.insert(entries)
    ids = dict(Entry.objects.filter(organisation_id=organisation_id, posted_at=now).values_list("source", "pk"))
    # Plain rows, not model instances: a monthly run writes 40 000 lines.
    bulk.insert((SimpleNamespace(entry_id=ids[item.source], position=i, account=line.account,
                                 aux_number=line.aux_number, aux_label=line.aux_label[:200], label=line.label,
                                 debit=line.debit, credit=line.credit, place=line.place[:200], cascade="",
                                 category=line.category[:100])
                 for item in pending for i, line in enumerate(item.draft.lines, start=1)), model=EntryLine)
    return len(entries)


def _invoices(organisation_id: int) -> Iterable[_Pending]:
    invoices = list(Invoice.objects.filter(organisation_id=organisation_id, entries__isnull=True).values(
        "pk", "number", "kind", "issue_date", "customer_id", "buyer", "place__name", "total_vat", "total_incl_vat"))
    lines = defaultdict(list)
    # Joined rather than listed by id: a first posting of years of invoices would pass SQLite's variable limit.
    for invoice_id, component, net, rate in InvoiceLine.objects.filter(
            invoice__organisation_id=organisation_id, invoice__entries__isnull=True).values_list(
            "invoice_id", "component", "amount_excl_vat", "vat_rate").order_by("invoice_id", "position"):
        lines[invoice_id].append(RevenueLine(component, net, rate))
    for invoice in invoices:
        revenue = lines[invoice["pk"]]
        rates = {ln.vat_rate for ln in revenue}
        if len(rates) == 1:
            # One rate (the usual case): its VAT is the document's, as computed when it was issued.
            rate = next(iter(rates))
            vat = [(rate, invoice["total_vat"])] if rate is not None else []
        else:
            vat = [(g.rate, g.vat) for g in vat_breakdown((ln.net, ln.vat_rate) for ln in revenue)
                   if g.rate is not None]
        draft = postings.sale(
            number=invoice["number"], issue_date=invoice["issue_date"],
            customer=customer(invoice["customer_id"], invoice["buyer"].get("name", "")),
            place=invoice["place__name"] or "", total=invoice["total_incl_vat"], lines=revenue, vat=vat,
            payment_notice=invoice["kind"] == DocumentKind.PAYMENT_NOTICE, kind_label=KIND_LABELS[invoice["kind"]])
        yield _Pending(f"invoice:{invoice['pk']}", draft, {"invoice_id": invoice["pk"]})


def _payments(organisation_id: int) -> Iterable[_Pending]:
    payments = Payment.objects.filter(organisation_id=organisation_id).select_related("payer")
    for payment in payments.exclude(entries__source__startswith="payment:"):
        draft = postings.payment(reference=payment.reference or f"PAI-{payment.pk}", received_on=payment.received_on,
                                 payer=customer(payment.payer_id, payment.payer.name), amount=payment.amount)
        yield _Pending(f"payment:{payment.pk}", draft, {"payment_id": payment.pk})
    # A payment its bank sent back (a direct debit rejected) posts its reversal on the day of the return.
    for payment in payments.filter(returned_on__isnull=False).exclude(entries__source__startswith="payment-return:"):
        draft = postings.payment(reference=payment.reference or f"PAI-{payment.pk}", received_on=payment.returned_on,
                                 amount=payment.amount, returned=True,
                                 payer=customer(payment.payer_id, payment.payer.name))
        yield _Pending(f"payment-return:{payment.pk}", draft, {"payment_id": payment.pk})


def _deposits(organisation_id: int) -> Iterable[_Pending]:
    posted = set(Entry.objects.filter(organisation_id=organisation_id, source__startswith="deposit-").values_list(
        "source", flat=True))
    for deposit in Deposit.objects.filter(organisation_id=organisation_id, received_on__isnull=False).select_related(
            "subscription__subscriber", "subscription__place").prefetch_related("movements"):
        subscription = deposit.subscription
        common = {"reference": f"DG-{subscription.reference}", "place": subscription.place.name,
                  "subscriber": customer(subscription.subscriber_id, subscription.subscriber.name)}
        steps = [(f"deposit-received:{deposit.pk}", deposit.received_on, deposit.amount, postings.deposit_received,
                  {})]
        # Each return or retention posts once. The first of each kind keeps the key it had when a deposit
        # could be returned or retained only once ("deposit-returned:<pk>"); the next ones add their rank.
        rank = {}
        for movement in deposit.movements.all():
            rank[movement.kind] = rank.get(movement.kind, 0) + 1
            source = f"deposit-{movement.kind}:{deposit.pk}" + (
                f":{rank[movement.kind]}" if rank[movement.kind] > 1 else "")
            if movement.kind == "returned":
                steps.append((source, movement.day, movement.amount, postings.deposit_returned, {}))
            else:
                steps.append((source, movement.day, movement.amount, postings.deposit_retained,
                              {"reason": movement.reason}))
        for source, day, amount, build, extra in steps:
            if source not in posted:
                yield _Pending(source, build(day=day, amount=amount, **common, **extra), {"deposit_id": deposit.pk})


def _bills(organisation_id: int) -> Iterable[_Pending]:
    for bill in SupplierBill.objects.filter(organisation_id=organisation_id, entries__isnull=True).select_related(
            "place"):
        draft = postings.supplier_bill(
            number=bill.number, day=bill.date, supplier=supplier(bill.supplier_id, bill.supplier_name),
            category=bill.category, place=bill.place.name if bill.place else "", excl_vat=bill.amount_excl_vat,
            vat=bill.amount_vat, incl_vat=bill.amount_incl_vat)
        yield _Pending(f"bill:{bill.pk}", draft, {"supplier_bill_id": bill.pk})
