"""The ledger: each kind of document posts one balanced entry on the French chart of accounts, with the
right amounts to the cent; entries are numbered without gaps per journal and year; posting is idempotent
and costs a fixed number of queries however many documents are posted."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_billing_run import Site

from cascade.billing.actions import bill_until, cancel_invoice
from cascade.billing.models import DocumentKind
from cascade.ledger import chart, postings
from cascade.ledger.models import Entry
from cascade.ledger.posting import post_pending
from cascade.ledger.postings import Party, RevenueLine
from cascade.payments.actions import record_payment, reverse_payment
from cascade.subscriptions.models import SubscriptionVersion

D = Decimal


def _lines(entry: Entry) -> list[tuple]:
    return [(ln.account, ln.debit, ln.credit, ln.aux_number) for ln in entry.lines.order_by("position")]


def _aux(organisation) -> str:
    return f"C{organisation.pk:05d}"


@pytest.fixture
def essai(db):
    return Site()


def test_an_invoice_with_vat_posts_the_customer_the_income_by_component_and_the_vat(essai):
    canal = essai.place("Canal Essai", vat=True)
    s = essai.subscribe(canal, "Atelier Bleu", "B1", entry=date(2026, 10, 1), exit=date(2026, 10, 31), rent="500.00",
                        fluids="50.00")
    bill_until(date(2026, 10, 1), organisation_id=essai.operator.pk)
    assert post_pending(essai.operator) == 1
    entry = Entry.objects.get(organisation=essai.operator)
    invoice = essai.invoices().get()
    assert (entry.journal, entry.number, entry.date, entry.piece_ref, entry.invoice) == (
        "VT", 1, date(2026, 10, 1), invoice.number, invoice)
    assert _lines(entry) == [("411", D("660.00"), D("0.00"), _aux(s.subscriber)),
                             ("706", D("0.00"), D("500.00"), ""),
                             ("708", D("0.00"), D("50.00"), ""),
                             ("44571", D("0.00"), D("110.00"), "")]
    assert {(ln.place, ln.category) for ln in entry.lines.all()} >= {("Canal Essai", "rent"), ("Canal Essai", "fluids")}

    # Its credit note posts the same lines the other way round, as the next entry of the journal.
    cancel_invoice(invoice, reason="Mauvaise adresse")
    assert post_pending(essai.operator) == 1
    credit = Entry.objects.get(organisation=essai.operator, invoice__kind=DocumentKind.CREDIT_NOTE)
    assert credit.number == 2
    assert _lines(credit) == [("411", D("0.00"), D("660.00"), _aux(s.subscriber)),
                              ("706", D("500.00"), D("0.00"), ""),
                              ("708", D("50.00"), D("0.00"), ""),
                              ("44571", D("110.00"), D("0.00"), "")]
    assert credit.label.startswith("Avoir ")


def test_rent_of_bare_premises_and_payment_notices_are_income_of_a_building(essai):
    halle = essai.place("Halle Essai", vat=False)
    invoice_sub = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 10, 1), exit=date(2026, 10, 31),
                                  rent="310.00")
    notice_sub = essai.subscribe(halle, "M. Martin", "L1", entry=date(2026, 10, 1), exit=date(2026, 10, 31),
                                 rent="420.00")
    SubscriptionVersion.objects.filter(subscription=notice_sub).update(payment_notice=True)
    bill_until(date(2026, 10, 1), organisation_id=essai.operator.pk)
    assert post_pending(essai.operator) == 2
    invoice, notice = (Entry.objects.get(invoice__subscription=s) for s in (invoice_sub, notice_sub))
    assert _lines(invoice) == [("411", D("310.00"), D("0.00"), _aux(invoice_sub.subscriber)),
                               ("752", D("0.00"), D("310.00"), "")]
    assert _lines(notice) == [("411", D("420.00"), D("0.00"), _aux(notice_sub.subscriber)),
                              ("752", D("0.00"), D("420.00"), "")]
    assert notice.label.startswith("Avis d'échéance E")


def test_a_payment_posts_the_bank_against_the_customer(essai):
    halle = essai.place("Halle Essai", vat=False)
    s = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 10, 1), exit=date(2026, 10, 31),
                        rent="310.00")
    bill_until(date(2026, 10, 1), organisation_id=essai.operator.pk)
    payment = record_payment(essai.operator, s.subscriber, amount=D("199.99"), received_on=date(2026, 10, 12),
                             means="transfer", reference="VIR AUBEPINE OCT")
    assert post_pending(essai.operator) == 2
    entry = Entry.objects.get(payment=payment)
    assert (entry.journal, entry.number, entry.date, entry.piece_ref) == ("BQ", 1, date(2026, 10, 12),
                                                                          "VIR AUBEPINE OCT")
    assert _lines(entry) == [("512", D("199.99"), D("0.00"), ""), ("411", D("0.00"), D("199.99"),
                                                                     _aux(s.subscriber))]


def test_a_direct_debit_returned_by_the_bank_posts_its_reversal(essai):
    halle = essai.place("Halle Essai", vat=False)
    s = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 10, 1), exit=date(2026, 10, 31),
                        rent="310.00")
    (invoice,) = bill_until(date(2026, 10, 1), organisation_id=essai.operator.pk).issued
    debit = record_payment(essai.operator, s.subscriber, amount=D("310.00"), received_on=date(2026, 10, 30),
                           means="direct_debit", reference=invoice.number, invoices=[invoice], source="sepa")
    post_pending(essai.operator)
    reverse_payment(debit, on=date(2026, 11, 4), reason="AM04")
    assert post_pending(essai.operator) == 1
    entries = Entry.objects.filter(payment=debit).order_by("number")
    assert [(e.journal, e.number, e.date) for e in entries] == [("BQ", 1, date(2026, 10, 30)),
                                                                 ("BQ", 2, date(2026, 11, 4))]
    assert _lines(entries[1]) == [("512", D("0.00"), D("310.00"), ""), ("411", D("310.00"), D("0.00"),
                                                                       _aux(s.subscriber))]
    assert post_pending(essai.operator) == 0


def test_a_supplier_bill_posts_the_expense_the_deductible_vat_and_the_supplier(essai):
    from cascade.ledger.models import SupplierBill

    canal = essai.place("Canal Essai", vat=True)
    bill = SupplierBill.objects.create(
        organisation=essai.operator, supplier_name="Divers", place=canal, category="Maintenance et petites réparations",
        date=date(2026, 1, 12), number="DIV-202601-612", amount_excl_vat=D("1859.15"), vat_rate=D("20"),
        amount_vat=D("371.83"), amount_incl_vat=D("2230.98"))
    assert post_pending(essai.operator) == 1
    entry = Entry.objects.get(supplier_bill=bill)
    assert (entry.journal, entry.piece_ref, entry.date) == ("AC", "DIV-202601-612", date(2026, 1, 12))
    assert _lines(entry) == [("6152", D("1859.15"), D("0.00"), ""), ("44566", D("371.83"), D("0.00"), ""),
                             ("401", D("0.00"), D("2230.98"), "FDIVERS")]
    assert {ln.category for ln in entry.lines.all()} == {"Maintenance et petites réparations"}


def test_entries_are_numbered_without_gaps_per_journal_and_posting_twice_posts_nothing(essai):
    canal = essai.place("Canal Essai", vat=True)
    subs = [essai.subscribe(canal, f"Occupant {n}", f"B{n}", entry=date(2026, 1, 1), rent="100.00")
            for n in range(1, 6)]
    bill_until(date(2026, 3, 1), organisation_id=essai.operator.pk)
    for n, s in enumerate(subs):
        record_payment(essai.operator, s.subscriber, amount=D("120.00"), received_on=date(2026, 1, 10 + n),
                       means="transfer")
    assert post_pending(essai.operator) == 15 + 5
    assert post_pending(essai.operator) == 0
    for journal, count in (("VT", 15), ("BQ", 5)):
        entries = Entry.objects.filter(organisation=essai.operator, journal=journal).order_by("number")
        assert [e.number for e in entries] == list(range(1, count + 1))
        # Numbers follow the dates: an accountant reads the journal in order.
        assert [e.date for e in entries] == sorted(e.date for e in entries)
    # A payment received later takes the next number of its journal.
    record_payment(essai.operator, subs[0].subscriber, amount=D("1.00"), received_on=date(2026, 3, 2), means="cash")
    assert post_pending(essai.operator) == 1
    assert Entry.objects.filter(organisation=essai.operator, journal="BQ").order_by("-number").first().number == 6


def test_posting_a_month_of_many_invoices_takes_a_fixed_number_of_queries(essai, django_assert_max_num_queries):
    canal = essai.place("Canal Essai", vat=True)
    for n in range(40):
        essai.subscribe(canal, f"Occupant {n}", f"B{n}", entry=date(2026, 1, 1), rent="100.00", fluids="10.00")
    bill_until(date(2026, 1, 1), organisation_id=essai.operator.pk)
    with django_assert_max_num_queries(15):
        assert post_pending(essai.operator) == 40


MONEY = st.decimals(min_value=D("-9999.99"), max_value=D("9999.99"), places=2)
RATES = st.sampled_from([None, D("20"), D("10"), D("5.5"), D("2.1")])


@given(st.lists(st.tuples(st.sampled_from(["rent", "fluids"]), MONEY, RATES), min_size=1, max_size=8))
def test_every_sale_entry_balances_whatever_its_lines(lines):
    from cascade.billing.vat import totals, vat_breakdown

    groups = vat_breakdown((net, rate) for _c, net, rate in lines)
    _excl, _vat, incl = totals(groups)
    draft = postings.sale(number="F2026-000001", issue_date=date(2026, 1, 1), customer=Party("C00001", "X"),
                          place="", total=incl, lines=[RevenueLine(*line) for line in lines],
                          vat=[(g.rate, g.vat) for g in groups if g.rate is not None], payment_notice=False,
                          kind_label="Facture")
    assert sum(ln.debit for ln in draft.lines) == sum(ln.credit for ln in draft.lines)
    assert all(ln.debit >= 0 and ln.credit >= 0 and not (ln.debit and ln.credit) for ln in draft.lines)


def test_an_unbalanced_entry_is_refused():
    with pytest.raises(postings.UnbalancedEntry):
        postings.balanced([postings.Line("512", D("10.00"), D("0.00"), "x"),
                           postings.Line("411", D("0.00"), D("9.99"), "x")])


def test_supplier_categories_go_to_their_expense_accounts():
    assert {c: chart.expense_account(c) for c in (
        "Électricité", "Eau", "Chauffage (gaz)", "Gardiennage et sécurité", "Nettoyage parties communes",
        "Coordination et animation du lieu", "Maintenance et petites réparations", "Assurance multirisque",
        "Travaux de mise en sécurité", "Programme d'animation du quartier", "Frais de réseau")} == {
        "Électricité": "6061", "Eau": "6061", "Chauffage (gaz)": "6061", "Gardiennage et sécurité": "611",
        "Nettoyage parties communes": "611", "Coordination et animation du lieu": "6226",
        "Maintenance et petites réparations": "6152", "Assurance multirisque": "616",
        "Travaux de mise en sécurité": "6152", "Programme d'animation du quartier": "604", "Frais de réseau": "628"}


def test_a_document_of_nothing_posts_no_entry():
    draft = postings.sale(number="F2026-000002", issue_date=date(2026, 1, 1), customer=Party("C00001", "X"), place="",
                          total=D("0.00"), lines=[RevenueLine("rent", D("-10.00"), None),
                                                  RevenueLine("rent", D("10.00"), None)],
                          vat=[], payment_notice=False, kind_label="Facture")
    assert draft.lines == ()
