"""`cascade bill --until DATE`: one invoice per period due, numbered in date order, idempotent.

Small hand-made sites whose invoices are computed by hand in the comments. The session's
demo site is billed up to DEMO_DAY, so a run of the command up to that day issues only the
invoices of the site a test builds; runs that go further are scoped to that organisation.
"""

import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader

from cascade.accounts.models import Organisation, OrganisationKind
from cascade.billing.actions import bill_until
from cascade.billing.documents import invoice_pdf
from cascade.billing.models import BilledOutside, DocumentKind, Invoice, NumberSequence
from cascade.billing.vat import EXEMPTION_MENTION
from cascade.imports.services import import_workbook
from cascade.places.models import Place, Resource, ResourceType, VatRegime
from cascade.subscriptions.models import Subscription, SubscriptionComponent, SubscriptionVersion
from conftest import DEMO_DAY, WORKBOOK


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _spaced(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


ZERO_RUN = {"issued": 0, "total_excl_vat": "0.00", "total_vat": "0.00", "total_incl_vat": "0.00"}


class Site:
    """An operator with places, spaces and occupants, built in a few lines."""

    def __init__(self, name: str = "Tiers-Lieu Essai", slug: str = "tiers-lieu-essai"):
        self.operator = Organisation.objects.create(name=name, slug=slug, kind=OrganisationKind.OPERATOR,
                                                    address="5 rue de l'Essai\n93100 Montreuil",
                                                    siret="73282932000074", vat_number="FR32732829320")
        self.office = ResourceType.objects.create(organisation=self.operator, name="Bureau")
        self._count = 0

    def place(self, name: str, *, vat: bool, end: date = date(2027, 6, 30)) -> Place:
        return Place.objects.create(
            organisation=self.operator, name=name, convention_start=date(2025, 1, 1), convention_end=end,
            vat_regime=VatRegime.VAT if vat else VatRegime.EXEMPT, vat_rate=Decimal("20") if vat else None)

    def subscribe(self, place: Place, occupant: str, space: str, *, entry: date, exit: date | None = None,
                  frequency: str = "monthly", term: str = "advance", rent: str,
                  fluids: str | None = None) -> Subscription:
        self._count += 1
        subscriber = Organisation.objects.create(
            name=occupant, slug=f"{self.operator.slug}-{self._count}", kind=OrganisationKind.OCCUPANT,
            operator=self.operator)
        resource = Resource.objects.create(organisation=self.operator, place=place, type=self.office,
                                           reference=space, surface=Decimal("20"))
        subscription = Subscription.objects.create(organisation=self.operator, subscriber=subscriber, place=place,
                                                   reference=f"OCC-{self._count:04d}")
        version = SubscriptionVersion.objects.create(subscription=subscription, number=1, effective_from=entry,
                                                     entry_date=entry, exit_date=exit, frequency=frequency,
                                                     term=term, status="in_force")
        version.resources.set([resource])
        SubscriptionComponent.objects.create(version=version, kind="rent", monthly_amount=Decimal(rent))
        if fluids:
            SubscriptionComponent.objects.create(version=version, kind="fluids", monthly_amount=Decimal(fluids))
        return subscription

    def invoices(self):
        return Invoice.objects.filter(organisation=self.operator).order_by("year", "sequence")

    def bill(self, until: date, dry_run: bool = False) -> dict:
        return bill_until(until, organisation_id=self.operator.pk, dry_run=dry_run).as_dict()


def bill(*args: str) -> dict:
    """`cascade bill --json ARGS`, its output read back."""
    out = io.StringIO()
    call_command("bill", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def _lines(invoice: Invoice) -> list[tuple]:
    return [(line.component, line.label, line.days, line.period_days, line.amount_excl_vat, line.vat_rate)
            for line in invoice.lines.all()]


def _summary(invoices) -> list[tuple]:
    return [(i.number, i.issue_date, i.customer.name, i.period_start, i.total_excl_vat) for i in invoices]


@pytest.fixture
def essai(site):
    """A new operator next to the demo site (billed up to DEMO_DAY, so the command leaves it alone)."""
    return Site()


# One subscription, by hand ------------------------------------------------------------------


def test_monthly_in_advance_entered_mid_month_with_vat(essai):
    halle = essai.place("Halle Essai", vat=True)
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 10), rent="620.00", fluids="93.00")

    # March: 22 days of 31 → 620 × 22/31 = 440.00 and 93 × 22/31 = 66.00; April in full: 713.00.
    assert bill("--until", "2026-04-30") == {
        "issued": 2, "total_excl_vat": "1219.00", "total_vat": "243.80", "total_incl_vat": "1462.80"}

    march, april = essai.invoices()
    assert (march.number, march.issue_date, march.due_date) == ("F2026-000001", date(2026, 3, 10), date(2026, 4, 9))
    assert (march.period_start, march.period_end) == (date(2026, 3, 1), date(2026, 4, 1))
    assert _lines(march) == [
        ("rent", "Redevance d'occupation — A1 — du 10/03/2026 au 31/03/2026 (22/31 jours)", 22, 31,
         Decimal("440.00"), Decimal("20.00")),
        ("fluids", "Provision sur charges (fluides) — A1 — du 10/03/2026 au 31/03/2026 (22/31 jours)", 22, 31,
         Decimal("66.00"), Decimal("20.00")),
    ]
    assert (march.total_excl_vat, march.total_vat, march.total_incl_vat) == (
        Decimal("506.00"), Decimal("101.20"), Decimal("607.20"))
    assert march.vat_mention == ""
    assert (march.kind, march.customer.name, march.seller["name"]) == (
        DocumentKind.INVOICE, "Atelier Aubépine", "Tiers-Lieu Essai")
    assert (april.number, april.issue_date, april.period_start) == ("F2026-000002", date(2026, 4, 1), date(2026, 4, 1))
    assert [line.label for line in april.lines.all()] == [
        "Redevance d'occupation — A1 — du 01/04/2026 au 30/04/2026",
        "Provision sur charges (fluides) — A1 — du 01/04/2026 au 30/04/2026",
    ]
    assert (april.total_excl_vat, april.total_vat, april.total_incl_vat) == (
        Decimal("713.00"), Decimal("142.60"), Decimal("855.60"))


def test_quarterly_in_arrears_leaving_mid_quarter_exempt(essai):
    friche = essai.place("Friche Essai", vat=False)
    essai.subscribe(friche, "Brasserie Bise", "Q1", entry=date(2026, 1, 1), exit=date(2026, 5, 20),
                    frequency="quarterly", term="arrears", rent="300.00", fluids="40.00")

    # Q1 is invoiced the day after it ends: nothing on 31/03.
    assert bill("--until", "2026-03-31") == ZERO_RUN
    # Q1 at 3 × the monthly amounts: 900.00 + 120.00, exempt.
    assert bill("--until", "2026-06-30") == {
        "issued": 1, "total_excl_vat": "1020.00", "total_vat": "0.00", "total_incl_vat": "1020.00"}
    # Q2: occupied 01/04–20/05, 50 days of 91 → 900 × 50/91 = 494.505… and 120 × 50/91 = 65.934…,
    # invoiced on 01/07 although the occupant left in May.
    assert bill("--until", "2026-07-01") == {
        "issued": 1, "total_excl_vat": "560.44", "total_vat": "0.00", "total_incl_vat": "560.44"}
    assert bill("--until", DEMO_DAY.isoformat()) == ZERO_RUN

    q1, q2 = essai.invoices()
    assert (q1.number, q1.issue_date, q1.period_start, q1.period_end) == (
        "F2026-000001", date(2026, 4, 1), date(2026, 1, 1), date(2026, 4, 1))
    assert [(line.component, line.amount_excl_vat, line.vat_rate) for line in q1.lines.all()] == [
        ("rent", Decimal("900.00"), None), ("fluids", Decimal("120.00"), None)]
    assert q1.vat_mention == EXEMPTION_MENTION == "Exonération de TVA, article 261 D 2° du CGI"
    assert (q2.number, q2.issue_date, q2.period_start, q2.period_end) == (
        "F2026-000002", date(2026, 7, 1), date(2026, 4, 1), date(2026, 7, 1))
    assert _lines(q2) == [
        ("rent", "Redevance d'occupation — Q1 — du 01/04/2026 au 20/05/2026 (50/91 jours)", 50, 91,
         Decimal("494.51"), None),
        ("fluids", "Provision sur charges (fluides) — Q1 — du 01/04/2026 au 20/05/2026 (50/91 jours)", 50, 91,
         Decimal("65.93"), None),
    ]
    assert (q2.total_vat, q2.total_incl_vat, q2.vat_mention) == (Decimal("0.00"), Decimal("560.44"),
                                                                 EXEMPTION_MENTION)


def test_quarterly_in_advance_entered_mid_quarter(essai):
    halle = essai.place("Halle Essai", vat=True)
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 2, 15), frequency="quarterly",
                    rent="100.00")

    # Invoiced on the entry day, for 15/02–31/03: 45 days of the 90 of Q1 → 300 × 45/90 = 150.00.
    assert bill("--until", "2026-02-15") == {
        "issued": 1, "total_excl_vat": "150.00", "total_vat": "30.00", "total_incl_vat": "180.00"}
    (invoice,) = essai.invoices()
    assert (invoice.issue_date, invoice.period_start, invoice.period_end) == (
        date(2026, 2, 15), date(2026, 1, 1), date(2026, 4, 1))
    assert _lines(invoice)[0][2:4] == (45, 90)


def test_line_amounts_round_half_up_to_the_cent(essai):
    halle = essai.place("Halle Essai", vat=True)
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 4, 16), rent="100.01")

    # 100.01 × 15/30 = 50.005 exactly: half-up gives 50.01 (half-even would give 50.00).
    # VAT 20 % of 50.01 = 10.002 → 10.00.
    assert bill("--until", "2026-04-16") == {
        "issued": 1, "total_excl_vat": "50.01", "total_vat": "10.00", "total_incl_vat": "60.01"}


# Runs -----------------------------------------------------------------------------------------


def test_dry_run_reports_what_the_real_run_then_issues(essai):
    halle = essai.place("Halle Essai", vat=True)
    friche = essai.place("Friche Essai", vat=False)
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 10), rent="620.00", fluids="93.00")
    essai.subscribe(friche, "Brasserie Bise", "Q1", entry=date(2026, 1, 1), frequency="quarterly",
                    term="arrears", rent="300.00", fluids="40.00")
    # Atelier: 506.00 + 713.00 at 20 %; Brasserie: Q1 1020.00 exempt.
    expected = {"issued": 3, "total_excl_vat": "2239.00", "total_vat": "243.80", "total_incl_vat": "2482.80"}

    assert bill("--until", "2026-04-30", "--dry-run") == expected
    assert bill("--until", "2026-04-30", "--dry-run") == expected
    assert not essai.invoices().exists()
    assert not NumberSequence.objects.filter(organisation=essai.operator).exists()

    assert bill("--until", "2026-04-30") == expected
    assert essai.invoices().count() == 3


def test_running_again_issues_nothing(essai):
    halle = essai.place("Halle Essai", vat=True)
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 10), rent="620.00", fluids="93.00")
    assert bill("--until", "2026-04-30")["issued"] == 2

    assert bill("--until", "2026-04-30") == ZERO_RUN
    assert bill("--until", "2026-04-30", "--dry-run") == ZERO_RUN
    assert essai.invoices().count() == 2
    assert NumberSequence.objects.get(organisation=essai.operator, series="F", year=2026).last == 2


def test_text_output_lists_the_invoices(essai):
    halle = essai.place("Halle Essai", vat=True)
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 10), rent="620.00", fluids="93.00")

    preview, out = io.StringIO(), io.StringIO()
    call_command("bill", "--until", "2026-03-31", "--dry-run", stdout=preview)
    call_command("bill", "--until", "2026-03-31", stdout=out)

    # The preview says, line by line, what would be issued and why.
    assert preview.getvalue().splitlines() == [
        "  2026-03-10  OCC-0001  Atelier Aubépine  invoice  506,00\u00a0€ HT",
        "            440,00\u00a0€  Redevance d'occupation — A1 — du 10/03/2026 au 31/03/2026 (22/31 jours)",
        "             66,00\u00a0€  Provision sur charges (fluides) — A1 — du 10/03/2026 au 31/03/2026 (22/31 jours)",
        "would issue 1 document(s) (invoices and credit notes) up to 2026-03-31: 506,00\u00a0€ HT, 101,20\u00a0€ TVA, "
        "607,20\u00a0€ TTC",
    ]
    assert out.getvalue().splitlines() == [
        "  F2026-000001  2026-03-10  Atelier Aubépine  607,20\u00a0€ TTC",
        "issued 1 document(s) (invoices and credit notes) up to 2026-03-31: 506,00\u00a0€ HT, 101,20\u00a0€ TVA, "
        "607,20\u00a0€ TTC",
    ]


def test_bad_date_is_refused(site):
    with pytest.raises(CommandError, match="not a date"):
        call_command("bill", "--until", "30/11/2026")


# Numbering ------------------------------------------------------------------------------------


def test_catch_up_numbers_follow_dates_across_the_new_year(essai):
    halle = essai.place("Halle Essai", vat=False)
    # Created first, but invoiced later in each month: numbers follow dates, not creation.
    essai.subscribe(halle, "Brasserie Bise", "B1", entry=date(2025, 12, 10), term="arrears", rent="310.00")
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2025, 11, 15), rent="300.00")

    # Atelier: November 16/30 → 160.00, then 300.00 a month; Brasserie: December 22/31 → 220.00,
    # invoiced on 01/01, then January 310.00 on 01/02.
    assert bill("--until", "2026-02-01") == {
        "issued": 6, "total_excl_vat": "1590.00", "total_vat": "0.00", "total_incl_vat": "1590.00"}

    assert _summary(essai.invoices()) == [
        ("F2025-000001", date(2025, 11, 15), "Atelier Aubépine", date(2025, 11, 1), Decimal("160.00")),
        ("F2025-000002", date(2025, 12, 1), "Atelier Aubépine", date(2025, 12, 1), Decimal("300.00")),
        ("F2026-000001", date(2026, 1, 1), "Atelier Aubépine", date(2026, 1, 1), Decimal("300.00")),
        ("F2026-000002", date(2026, 1, 1), "Brasserie Bise", date(2025, 12, 1), Decimal("220.00")),
        ("F2026-000003", date(2026, 2, 1), "Atelier Aubépine", date(2026, 2, 1), Decimal("300.00")),
        ("F2026-000004", date(2026, 2, 1), "Brasserie Bise", date(2026, 1, 1), Decimal("310.00")),
    ]
    assert sorted(NumberSequence.objects.filter(organisation=essai.operator).values_list(
        "series", "year", "last")) == [("F", 2025, 2), ("F", 2026, 4)]


def test_numbering_restarts_in_2027(essai):
    halle = essai.place("Halle Essai", vat=True)
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 11, 20), rent="300.00")

    # Scoped to the new operator: the demo site is billed up to DEMO_DAY only.
    assert essai.bill(date(2027, 1, 15)) == {
        "issued": 3, "total_excl_vat": "710.00", "total_vat": "142.00", "total_incl_vat": "852.00"}
    assert essai.bill(date(2027, 2, 1))["issued"] == 1

    assert [(i.number, i.issue_date, i.total_excl_vat) for i in essai.invoices()] == [
        ("F2026-000001", date(2026, 11, 20), Decimal("110.00")),  # 300 × 11/30
        ("F2026-000002", date(2026, 12, 1), Decimal("300.00")),
        ("F2027-000001", date(2027, 1, 1), Decimal("300.00")),
        ("F2027-000002", date(2027, 2, 1), Decimal("300.00")),
    ]
    assert not Invoice.objects.filter(issue_date__gt=DEMO_DAY).exclude(organisation=essai.operator).exists()


def test_each_operator_numbers_its_own_invoices(essai):
    other = Site("Autre Lieu", "autre-lieu")
    essai.subscribe(essai.place("Halle Essai", vat=True), "Atelier Aubépine", "A1", entry=date(2026, 5, 1),
                    rent="100.00")
    other.subscribe(other.place("Halle Autre", vat=True), "Cordée Coop", "C1", entry=date(2026, 4, 1),
                    rent="100.00")

    assert bill("--until", "2026-05-01")["issued"] == 3

    assert [(i.number, i.issue_date) for i in essai.invoices()] == [("F2026-000001", date(2026, 5, 1))]
    assert [(i.number, i.issue_date) for i in other.invoices()] == [
        ("F2026-000001", date(2026, 4, 1)), ("F2026-000002", date(2026, 5, 1))]


# Changes after issue ------------------------------------------------------------------------


def _leave_early(subscription: Subscription, exit: date, entry: date | None = None) -> None:
    """A second version of the same terms with new dates, as an amendment would record it."""
    v1 = subscription.current_version
    v2 = SubscriptionVersion.objects.create(subscription=subscription, number=2, effective_from=v1.effective_from,
                                            entry_date=entry or v1.entry_date, exit_date=exit,
                                            frequency=v1.frequency, term=v1.term, status="in_force")
    v2.resources.set(v1.resources.all())
    SubscriptionComponent.objects.bulk_create(
        SubscriptionComponent(version=v2, kind=c.kind, monthly_amount=c.monthly_amount)
        for c in v1.components.all())


def test_an_earlier_exit_inside_a_billed_period_is_credited(essai):
    halle = essai.place("Halle Essai", vat=True)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    assert bill("--until", "2026-03-31")["issued"] == 1

    _leave_early(subscription, date(2026, 3, 10))

    # March: 10 days of 31 due (100.00) against 310.00 billed.
    assert bill("--until", "2026-03-31") == {
        "issued": 1, "total_excl_vat": "-210.00", "total_vat": "-42.00", "total_incl_vat": "-252.00"}
    (credit,) = essai.invoices().filter(kind=DocumentKind.CREDIT_NOTE)
    assert (credit.number, credit.series, credit.period_start) == ("A2026-000001", "A", date(2026, 3, 1))
    assert credit.corrects.number == "F2026-000001"
    # The line says which days are credited, and why.
    assert _lines(credit) == [
        ("rent", "Sortie au 10/03/2026 (version 2 du 01/03/2026) : redevance d'occupation — A1 — non due "
                 "du 11/03/2026 au 31/03/2026 (21/31 jours)", 21, 31, Decimal("-210.00"), Decimal("20.00"))]
    assert bill("--until", "2026-03-31") == ZERO_RUN


def test_a_whole_period_billed_after_an_earlier_exit_is_credited(essai):
    halle = essai.place("Halle Essai", vat=True)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    assert bill("--until", "2026-04-01")["issued"] == 2

    _leave_early(subscription, date(2026, 3, 10))

    # March: 100.00 due against 310.00; April: nothing due against 310.00 billed in advance.
    assert bill("--until", "2026-04-30") == {
        "issued": 2, "total_excl_vat": "-520.00", "total_vat": "-104.00", "total_incl_vat": "-624.00"}
    april = essai.invoices().get(kind=DocumentKind.CREDIT_NOTE, period_start=date(2026, 4, 1))
    assert (april.number, april.total_incl_vat) == ("A2026-000002", Decimal("-372.00"))
    assert _lines(april) == [
        ("rent", "Sortie au 10/03/2026 (version 2 du 01/03/2026) : redevance d'occupation — A1 — non due "
                 "du 01/04/2026 au 30/04/2026", 30, 30, Decimal("-310.00"), Decimal("20.00"))]
    assert bill("--until", "2026-04-30") == ZERO_RUN


def test_pdfs_of_an_invoice_and_of_its_credit_note(essai, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    essai.operator.registration = "au capital de 12 000 € — RCS Bobigny 439 206 400"
    essai.operator.iban = "FR76 3000 3315 2116 9207 1991 947"
    essai.operator.save()
    halle = essai.place("Halle Essai", vat=True)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    bill("--until", "2026-03-31")
    _leave_early(subscription, date(2026, 3, 10))
    bill("--until", "2026-03-31")
    invoice = essai.invoices().get(kind=DocumentKind.INVOICE)
    credit = essai.invoices().get(kind=DocumentKind.CREDIT_NOTE)

    invoice_text, credit_text = (_spaced(text_of(invoice_pdf(doc))) for doc in (invoice, credit))

    assert "Facture N° F2026-000001" in invoice_text
    assert "au capital de 12 000 € — RCS Bobigny 439 206 400" in invoice_text
    assert "Redevance d'occupation — A1 — du 01/03/2026 au 31/03/2026 1 mois 20 % 310,00 €" in invoice_text
    assert ("À régler au plus tard le 31/03/2026 par virement. IBAN : FR76 3000 3315 2116 9207 1991 947 "
            "Escompte pour paiement anticipé : néant.") in invoice_text
    assert "Avoir N° A2026-000001 Facture d’origine : F2026-000001" in credit_text
    assert "(21/31 jours) 21/31 j 20 % -210,00 €" in credit_text
    assert "Total TTC -252,00 €" in credit_text


def test_a_period_caught_up_after_later_invoices_is_dated_after_them(essai):
    halle = essai.place("Halle Essai", vat=True)
    essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    assert bill("--until", "2026-05-01")["issued"] == 3  # March, April, May

    # An occupancy from February, recorded late: its February to May invoices come now.
    essai.subscribe(halle, "Brasserie Bise", "B1", entry=date(2026, 2, 1), rent="100.00")
    assert bill("--until", "2026-05-01")["issued"] == 4

    late = essai.invoices().filter(customer__name="Brasserie Bise")
    assert [(i.number, i.period_start, i.issue_date, i.due_date) for i in late] == [
        ("F2026-000004", date(2026, 2, 1), date(2026, 5, 1), date(2026, 5, 31)),
        ("F2026-000005", date(2026, 3, 1), date(2026, 5, 1), date(2026, 5, 31)),
        ("F2026-000006", date(2026, 4, 1), date(2026, 5, 1), date(2026, 5, 31)),
        ("F2026-000007", date(2026, 5, 1), date(2026, 5, 1), date(2026, 5, 31)),
    ]
    dates = [i.issue_date for i in essai.invoices()]
    assert dates == sorted(dates)


def test_a_seller_without_address_or_siret_issues_nothing(essai):
    Organisation.objects.filter(pk=essai.operator.pk).update(address="", siret="")
    essai.subscribe(essai.place("Halle Essai", vat=True), "Atelier Aubépine", "A1", entry=date(2026, 3, 1),
                    rent="310.00")
    other = Site("Autre Lieu", "autre-lieu")
    other.subscribe(other.place("Halle Autre", vat=True), "Cordée Coop", "C1", entry=date(2026, 3, 1),
                    rent="100.00")

    # The complete seller is billed; the other is named, with what it lacks, and exit status 1.
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"^Tiers-Lieu Essai: the address and SIRET of the seller must be set"):
        call_command("bill", "--until", "2026-03-31", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {
        "issued": 1, "total_excl_vat": "100.00", "total_vat": "20.00", "total_incl_vat": "120.00"}
    assert not essai.invoices().exists()

    Organisation.objects.filter(pk=essai.operator.pk).update(address="5 rue de l'Essai", siret="73282932000074")
    assert bill("--until", "2026-03-31")["issued"] == 1


def test_a_seller_charging_vat_needs_its_vat_number(essai):
    Organisation.objects.filter(pk=essai.operator.pk).update(vat_number="")
    essai.subscribe(essai.place("Halle Essai", vat=True), "Atelier Aubépine", "A1", entry=date(2026, 3, 1),
                    rent="310.00")
    with pytest.raises(CommandError, match=r"^Tiers-Lieu Essai: the VAT number of the seller must be set"):
        call_command("bill", "--until", "2026-03-31", "--json", stdout=io.StringIO())
    assert not essai.invoices().exists()

    # Bare premises let without VAT: the VAT number is not needed (EN 16931 asks it only with VAT).
    other = Site("Autre Lieu", "autre-lieu")
    Organisation.objects.filter(pk=other.operator.pk).update(vat_number="")
    other.subscribe(other.place("Halle Autre", vat=False), "Cordée Coop", "C1", entry=date(2026, 3, 1),
                    rent="100.00")
    with pytest.raises(CommandError):
        call_command("bill", "--until", "2026-03-31", "--json", stdout=io.StringIO())
    assert [i.total_incl_vat for i in other.invoices()] == [Decimal("100.00")]


def test_a_period_billed_before_a_later_entry_is_credited(essai):
    halle = essai.place("Halle Essai", vat=True)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00")
    assert bill("--until", "2026-04-01")["issued"] == 2

    # The occupant finally came on 16/04 and stays until 30/04: March was never occupied.
    _leave_early(subscription, date(2026, 4, 30), entry=date(2026, 4, 16))

    # March: 310.00 billed, nothing due; April: 155.00 due (15/30) against 310.00.
    assert bill("--until", "2026-04-30") == {
        "issued": 2, "total_excl_vat": "-465.00", "total_vat": "-93.00", "total_incl_vat": "-558.00"}
    march = essai.invoices().get(kind=DocumentKind.CREDIT_NOTE, period_start=date(2026, 3, 1))
    assert (march.number, march.issue_date, march.total_excl_vat) == (
        "A2026-000001", date(2026, 3, 1), Decimal("-310.00"))
    assert bill("--until", "2026-04-30") == ZERO_RUN


# Billing start after an import ---------------------------------------------------------------


def test_periods_before_the_billing_start_are_never_invoiced(site):
    operator = Organisation.objects.create(name="Reprise", slug="reprise", kind=OrganisationKind.OPERATOR,
                                           iban="FR76 1027 8060 3100 0205 4321 084")
    report = import_workbook(str(WORKBOOK), operator=operator, billing_from=date(2026, 6, 1))
    assert report.ok, report.faults
    # The importing organisation, the seller, took the Structure sheet's legal data where it had none.
    operator.refresh_from_db()
    assert (operator.name, operator.siret, operator.legal_form, operator.address, operator.iban) == (
        "Reprise", "43920640053409", "SCIC SAS", "3 impasse des Lilas, 93100 Montreuil",
        "FR76 1027 8060 3100 0205 4321 084")

    # Les Pousses Ouverte, S08, quarterly in advance from 17/11/2025 (496 + 93 a month): Q4 2025,
    # Q1 and Q2 2026 were invoiced before 01/06/2026, by hand.
    pousses = Subscription.objects.get(organisation=operator, subscriber__name="Les Pousses Ouverte",
                                       place__name="École Voltaire")
    assert list(BilledOutside.objects.filter(subscription=pousses).order_by("period_start", "component")
                .values_list("period_start", "period_end", "component", "amount_excl_vat")) == [
        (date(2025, 10, 1), date(2026, 1, 1), "fluids", Decimal("136.47")),  # 279 × 45/92
        (date(2025, 10, 1), date(2026, 1, 1), "rent", Decimal("727.83")),  # 1488 × 45/92
        (date(2026, 1, 1), date(2026, 4, 1), "fluids", Decimal("279.00")),
        (date(2026, 1, 1), date(2026, 4, 1), "rent", Decimal("1488.00")),
        (date(2026, 4, 1), date(2026, 7, 1), "fluids", Decimal("279.00")),
        (date(2026, 4, 1), date(2026, 7, 1), "rent", Decimal("1488.00")),
    ]

    run = bill_until(date(2026, 7, 1), organisation_id=operator.pk)

    invoices = Invoice.objects.filter(organisation=operator)
    assert len(run.issued) == invoices.count() > 0
    assert min(invoices.values_list("issue_date", flat=True)) == date(2026, 6, 1)
    assert [(i.issue_date, i.period_start, i.total_excl_vat) for i in invoices.filter(subscription=pousses)] == [
        (date(2026, 7, 1), date(2026, 7, 1), Decimal("1767.00"))]
    # Les Voisins Éphémère, S02, quarterly in arrears from 30/06/2026: one day of Q2 (91 days),
    # invoiced on 01/07 by Cascade: 1116 × 1/91 = 12.263… and 279 × 1/91 = 3.065…
    voisins = Subscription.objects.get(organisation=operator, subscriber__name="Les Voisins Éphémère",
                                       place__name="École Voltaire")
    assert not BilledOutside.objects.filter(subscription=voisins).exists()
    (invoice,) = invoices.filter(subscription=voisins)
    assert [(line.component, line.days, line.period_days, line.amount_excl_vat) for line in invoice.lines.all()] == [
        ("rent", 1, 91, Decimal("12.26")), ("fluids", 1, 91, Decimal("3.07"))]
    assert bill_until(date(2026, 7, 1), organisation_id=operator.pk).as_dict() == ZERO_RUN


# The demo site ----------------------------------------------------------------------------------


def test_demo_invoices_of_one_occupant(site):
    """La Forge Nomade at École Voltaire (exempt), S02 from 29/11/2025 to 14/03/2026, 496 + 93 a month."""
    forge = Subscription.objects.get(organisation=site["operator"], subscriber__name="La Forge Nomade",
                                     place__name="École Voltaire")

    invoices = forge.invoices.order_by("issue_date")

    assert [(i.issue_date, i.total_excl_vat, i.total_incl_vat) for i in invoices] == [
        (date(2025, 11, 29), Decimal("39.27"), Decimal("39.27")),  # 2/30: 33.07 + 6.20
        (date(2025, 12, 1), Decimal("589.00"), Decimal("589.00")),
        (date(2026, 1, 1), Decimal("589.00"), Decimal("589.00")),
        (date(2026, 2, 1), Decimal("589.00"), Decimal("589.00")),
        (date(2026, 3, 1), Decimal("266.00"), Decimal("266.00")),  # 14/31: 224.00 + 42.00
    ]
    assert {i.vat_mention for i in invoices} == {EXEMPTION_MENTION}
    assert [line.label for line in invoices.last().lines.all()] == [
        "Redevance d'occupation — S02 — du 01/03/2026 au 14/03/2026 (14/31 jours)",
        "Provision sur charges (fluides) — S02 — du 01/03/2026 au 14/03/2026 (14/31 jours)",
    ]


def test_demo_numbering_is_gapless_and_follows_dates(site):
    operator = site["operator"]
    for year in (2025, 2026):
        invoices = list(Invoice.objects.filter(organisation=operator, series="F", year=year)
                        .order_by("sequence").values_list("sequence", "number", "issue_date"))
        assert [s for s, _, _ in invoices] == list(range(1, len(invoices) + 1))
        assert all(number == f"F{year}-{s:06d}" for s, number, _ in invoices)
        assert [d for _, _, d in invoices] == sorted(d for _, _, d in invoices)
        assert {d.year for _, _, d in invoices} == {year}
    assert site["run"].as_dict()["issued"] == Invoice.objects.filter(organisation=operator).count()
    assert bill("--until", DEMO_DAY.isoformat()) == ZERO_RUN


@pytest.mark.parametrize("value", ["20260101", "2026-W10", "31/03/2026", "9999-12-31", "2026-02-30", "",
                                   "２０２６-０３-３１", "٢٠٢٦-٠٣-٣١"])
def test_until_takes_only_a_plain_date(db, value):
    with pytest.raises(CommandError, match=r"^--until: '"):
        bill("--until", value)


def _reprice(subscription: Subscription, number: int, effective: date, rent: str) -> None:
    """A version in force from `effective` at a new monthly fee, as a signed amendment records it."""
    current = subscription.current_version
    version = SubscriptionVersion.objects.create(
        subscription=subscription, number=number, effective_from=effective, entry_date=current.entry_date,
        exit_date=current.exit_date, frequency=current.frequency, term=current.term, status="in_force")
    version.resources.set(current.resources.all())
    SubscriptionComponent.objects.create(version=version, kind="rent", monthly_amount=Decimal(rent))


def test_amendments_of_a_billed_quarter_are_billed_as_adjustments_of_their_days(essai):
    """Q2 2024 (91 days) billed in advance at 9 000.00; the fee doubles from day 31, then triples from
    day 61: each amendment adds only its own days, at the difference of price."""
    halle = essai.place("Halle Essai", vat=False)
    halle.convention_start = date(2024, 1, 1)
    halle.save()
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2024, 4, 1), rent="3000.00",
                                   frequency="quarterly")
    assert essai.bill(date(2024, 4, 1))["total_excl_vat"] == "9000.00"

    _reprice(subscription, 2, date(2024, 5, 1), "6000.00")
    # 61 days of 91 at 18 000.00 − 9 000.00 a quarter: 6 032.97.
    assert essai.bill(date(2024, 5, 1))["total_excl_vat"] == "6032.97"
    _reprice(subscription, 3, date(2024, 5, 31), "9000.00")
    # 31 days at 27 000.00 − 18 000.00: 3 065.93, not a recomputation of what was already adjusted.
    assert essai.bill(date(2024, 5, 31))["total_excl_vat"] == "3065.93"
    second, third = essai.invoices()[1:]
    assert [(c, _spaced(label), *rest) for c, label, *rest in _lines(second)] == [
        ("rent", "Version 2 du 01/05/2024 : redevance d'occupation 3 000,00 € → 6 000,00 € par mois "
                 "du 01/05/2024 au 30/06/2024 (61/91 jours)", 61, 91, Decimal("6032.97"), None)]
    assert [(c, _spaced(label), *rest) for c, label, *rest in _lines(third)] == [
        ("rent", "Version 3 du 31/05/2024 : redevance d'occupation 6 000,00 € → 9 000,00 € par mois "
                 "du 31/05/2024 au 30/06/2024 (31/91 jours)", 31, 91, Decimal("3065.93"), None)]
    # Together, exactly what the quarter costs day by day: 9 000 × 30 + 18 000 × 30 + 27 000 × 31, over 91.
    assert sum(i.total_excl_vat for i in essai.invoices()) == Decimal("18098.90")
    assert essai.bill(date(2024, 6, 30))["issued"] == 0


def test_anniversary_periods_from_the_31st_and_due_at_the_end_of_the_month(essai):
    """A subscription template with anniversary periods: a monthly occupancy from 31 January 2027 is
    billed 31 Jan, 28 Feb, 31 Mar, 30 Apr, 31 May — each a whole month at its price — five days before
    its period (the invoice day), due 30 days later at the end of the month."""
    essai.operator.payment_terms_end_of_month = True
    essai.operator.save()
    halle = essai.place("Halle Essai", vat=False)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2027, 1, 31), rent="310.00")
    subscription.versions.update(anchor=date(2027, 1, 31), invoice_days_before=5)
    essai.bill(date(2027, 5, 31))
    assert [(i.period_start, i.period_end, i.issue_date, i.due_date, i.total_excl_vat) for i in essai.invoices()] == [
        (date(2027, 1, 31), date(2027, 2, 28), date(2027, 1, 31), date(2027, 3, 31), Decimal("310.00")),
        (date(2027, 2, 28), date(2027, 3, 31), date(2027, 2, 23), date(2027, 3, 31), Decimal("310.00")),
        (date(2027, 3, 31), date(2027, 4, 30), date(2027, 3, 26), date(2027, 4, 30), Decimal("310.00")),
        (date(2027, 4, 30), date(2027, 5, 31), date(2027, 4, 25), date(2027, 5, 31), Decimal("310.00")),
        (date(2027, 5, 31), date(2027, 6, 30), date(2027, 5, 26), date(2027, 6, 30), Decimal("310.00")),
    ]


def test_an_invoice_is_cancelled_by_a_credit_note_and_issued_again_as_due(essai, settings, tmp_path):
    from cascade.billing import facturx
    from cascade.billing.actions import BillingError, cancel_invoice
    from cascade.billing.documents import invoice_data

    settings.MEDIA_ROOT = tmp_path
    halle = essai.place("Halle Essai", vat=True)
    subscription = essai.subscribe(halle, "Atelier Aubépine", "A1", entry=date(2026, 3, 1), rent="310.00",
                                   fluids="40.00")
    subscription.subscriber.siret, subscription.subscriber.email = "67981318885416", "a@aubepine.example.org"
    subscription.subscriber.save()
    essai.bill(date(2026, 3, 31))
    invoice = essai.invoices().get()
    # The address was wrong on the invoice: cancel it, correct the address, bill again.
    credit = cancel_invoice(invoice, reason="adresse erronée")
    assert (credit.number, credit.corrects, credit.total_excl_vat, credit.total_incl_vat) == (
        "A2026-000001", invoice, Decimal("-350.00"), Decimal("-420.00"))
    assert credit.lines.first().label.startswith(
        "Annulation de la facture F2026-000001 (adresse erronée) : Redevance d'occupation")
    with pytest.raises(BillingError):
        cancel_invoice(invoice, reason="deux fois")
    with pytest.raises(BillingError):
        cancel_invoice(credit, reason="un avoir")
    subscription.subscriber.address = "9 rue Juste\n93100 Montreuil"
    subscription.subscriber.save()
    assert essai.bill(date(2026, 3, 31)) == {"issued": 1, "total_excl_vat": "350.00", "total_vat": "70.00",
                                             "total_incl_vat": "420.00"}
    again = essai.invoices().get(number="F2026-000002")
    assert again.buyer["address"] == "9 rue Juste\n93100 Montreuil"
    assert facturx.validate(facturx.cii_xml(invoice_data(credit))) == []
