"""Importing the operator's workbook: by the service, by `cascade import_workbook`, and from the browser.

All or nothing: a workbook with a fault reports every fault (sheet, row, column) and writes
nothing; a clean one creates the places, resources, occupants and subscriptions it lists.
The session's demo site already holds the demo workbook, so the tests that import it again
either import it for a new operator organisation, or clear the demo first (rolled back at
the end of the test).
"""

import io
import json
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from cascade.accounts.models import AuditEvent, Membership, Organisation, OrganisationKind, Role
from cascade.billing.models import BilledOutside, Invoice, InvoiceLine, InvoiceSend, NumberSequence
from cascade.contracts.models import Contract
from cascade.imports.services import import_workbook
from cascade.places.models import Place, PlaceShare, Resource, ResourceChange, ResourceType, VatRegime
from cascade.subscriptions.models import Subscription, SubscriptionTemplate
from conftest import ERRORS_EXPECTED, ERRORS_WORKBOOK, WORKBOOK, login

ATELIERS = "Les Ateliers du Canal"
VOLTAIRE = "École Voltaire"
# What the demo workbook holds; pinned so that a change in the importer or the workbook shows.
DEMO_COUNTS = {"places": 2, "resources": 127, "occupants": 96, "subscriptions": 172, "partners": 1,
               "resource_types": 9, "supplier_bills": 266}
RESOURCE_TYPES = {"Atelier", "Bureau", "Casier", "Logement", "Open space", "Parking", "Poste",
                  "Salle de réunion", "Stockage"}


def _row_counts() -> dict[str, int]:
    """Rows of every model: what "nothing was written" is checked against."""
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def _expected_faults() -> list[dict]:
    return sorted(json.loads(ERRORS_EXPECTED.read_text(encoding="utf-8")), key=_fault_key)


def _fault_key(fault: dict) -> tuple:
    return fault["sheet"], fault["row"], fault["column"]


def _fault_line(fault: dict) -> str:
    return (f"{fault['sheet']}, row {fault['row']}, column «{fault['column']}»: {fault['problem']} "
            f"(value: «{fault['value']}»)")


def _run(*args: str) -> tuple[int, str, str]:
    """`cascade import_workbook ARGS`: exit status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_workbook", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _held(reference: str, occupant: str, operator: Organisation | None = None) -> Subscription:
    """The subscription of `occupant` on space `reference` of École Voltaire (rows 163–179)."""
    subscriptions = Subscription.objects.filter(place__name=VOLTAIRE, subscriber__name=occupant,
                                                versions__resources__reference=reference)
    if operator is not None:
        subscriptions = subscriptions.filter(organisation=operator)
    return subscriptions.get()


def _new_operator(name: str = "Nouvel Opérateur", slug: str = "nouvel-operateur") -> Organisation:
    return Organisation.objects.create(name=name, slug=slug, kind=OrganisationKind.OPERATOR)


def _clear_demo(operator: Organisation) -> None:
    """Remove everything the demo import and billing created, keeping the operator and its members."""
    from cascade.ledger.models import Entry, EntryLine, SupplierBill
    from cascade.payments.models import Allocation, Deposit, Payment

    EntryLine.objects.all().delete()
    Entry.objects.all().delete()
    SupplierBill.objects.all().delete()
    Deposit.objects.all().delete()
    Allocation.objects.all().delete()
    Payment.objects.all().delete()
    InvoiceLine.objects.all().delete()
    InvoiceSend.objects.all().delete()
    Invoice.objects.all().delete()
    BilledOutside.objects.all().delete()
    NumberSequence.objects.all().delete()
    Contract.objects.all().delete()
    Subscription.objects.all().delete()  # versions and components cascade
    SubscriptionTemplate.objects.all().delete()
    ResourceChange.objects.all().delete()
    # Sub-units protect their parent: delete leaves first.
    while Resource.objects.exists():
        Resource.objects.filter(children__isnull=True).delete()
    PlaceShare.objects.all().delete()
    Place.objects.all().delete()
    ResourceType.objects.all().delete()
    AuditEvent.objects.all().delete()
    Organisation.objects.filter(operator=operator).delete()
    assert Organisation.objects.filter(kind=OrganisationKind.OCCUPANT).count() == 0


@pytest.fixture
def empty_site(site):
    """The demo operator with its members, without the demo's places, occupants and invoices."""
    _clear_demo(site["operator"])
    return site


# The clean workbook --------------------------------------------------------------------------


def test_clean_workbook_imports_for_a_new_operator(site):
    operator = _new_operator()

    report = import_workbook(str(WORKBOOK), operator=operator)

    assert report.ok, report.faults
    assert report.counts == DEMO_COUNTS
    assert report.operator == operator
    assert Place.objects.filter(organisation=operator).count() == 2
    assert Resource.objects.filter(organisation=operator).count() == 127
    assert Subscription.objects.filter(organisation=operator).count() == 172
    assert Organisation.objects.filter(operator=operator, kind=OrganisationKind.OCCUPANT).count() == 96
    partners = Organisation.objects.filter(operator=operator, kind=OrganisationKind.PARTNER)
    assert list(partners.values_list("name", flat=True)) == ["Association Entraide Voltaire"]
    types = ResourceType.objects.filter(organisation=operator)
    assert set(types.values_list("name", flat=True)) == RESOURCE_TYPES
    assert set(types.filter(rentable=False).values_list("name", flat=True)) == {"Salle de réunion"}
    # The demo operator's own data is untouched.
    assert Subscription.objects.filter(organisation=site["operator"]).count() == 172


def test_clean_workbook_rows_become_places_and_subscriptions(site):
    operator = _new_operator()

    import_workbook(str(WORKBOOK), operator=operator)

    ateliers = Place.objects.get(organisation=operator, name=ATELIERS)
    voltaire = Place.objects.get(organisation=operator, name=VOLTAIRE)
    assert (ateliers.vat_regime, ateliers.vat_rate) == (VatRegime.VAT, Decimal("20.00"))
    assert (voltaire.vat_regime, voltaire.vat_rate) == (VatRegime.EXEMPT, None)
    assert (voltaire.convention_start, voltaire.convention_end) == (date(2025, 9, 1), date(2026, 12, 31))
    assert sorted((s.partner.name, s.share) for s in voltaire.shares.all()) == [
        ("Association Entraide Voltaire", Decimal("40.00")), ("Nouvel Opérateur", Decimal("60.00"))]
    assert voltaire.resources.count() == 16
    preau = voltaire.resources.get(reference="PREAU")
    assert (preau.type.name, preau.type.rentable, preau.surface) == ("Salle de réunion", False, Decimal("180.00"))

    # Occupations row 164: La Forge Nomade, S02, 29/11/2025 → 14/03/2026, 496 + 93 a month, à échoir.
    forge = _held("S02", "La Forge Nomade", operator)
    version = forge.current_version
    assert forge.place == voltaire
    assert forge.deposit == Decimal("496.00")
    assert forge.billing_from is None
    assert (version.entry_date, version.exit_date) == (date(2025, 11, 29), date(2026, 3, 14))
    assert (version.frequency, version.term) == ("monthly", "advance")
    assert [r.reference for r in version.resources.all()] == ["S02"]
    assert {c.kind: c.monthly_amount for c in version.components.all()} == {
        "rent": Decimal("496.00"), "fluids": Decimal("93.00")}
    # Row 179 has no fluids: one component only.
    loge = Subscription.objects.get(organisation=operator, place=voltaire, versions__resources__reference="LOGE")
    assert [(c.kind, c.monthly_amount) for c in loge.current_version.components.all()] == [
        ("rent", Decimal("180.00"))]
    # Without --billing-from, nothing is recorded as billed outside Cascade.
    assert not BilledOutside.objects.filter(subscription__organisation=operator).exists()


def test_dry_run_counts_and_writes_nothing(site):
    operator = _new_operator()
    before = _row_counts()

    report = import_workbook(str(WORKBOOK), operator=operator, dry_run=True)

    assert report.ok
    assert report.counts == DEMO_COUNTS
    assert _row_counts() == before


def test_command_imports_the_workbook_and_prints_json(empty_site):
    status, out, err = _run(str(WORKBOOK), "--json")

    assert (status, err) == (0, "")
    result = json.loads(out)
    assert {k: result[k] for k in DEMO_COUNTS} == DEMO_COUNTS
    assert result["faults"] == []
    operator = empty_site["operator"]
    # The operator is found again by its SIRET: alice and bob keep their roles on the new data.
    assert Place.objects.filter(organisation=operator).count() == 2
    assert Resource.objects.count() == 127
    assert Subscription.objects.filter(organisation=operator).count() == 172
    assert Organisation.objects.filter(operator=operator, kind=OrganisationKind.OCCUPANT).count() == 96
    event = AuditEvent.objects.get(action="workbook.imported")
    assert event.organisation == operator
    assert event.data["subscriptions"] == 172


def test_command_prints_what_it_created(empty_site):
    status, out, err = _run(str(WORKBOOK))

    assert (status, err) == (0, "")
    assert out.strip() == ("created: 2 places, 127 resources, 96 occupants, 172 subscriptions, "
                           "1 partners, 9 resource_types, 266 supplier_bills")


def test_command_dry_run_writes_nothing(empty_site):
    before = _row_counts()

    status, out, err = _run(str(WORKBOOK), "--dry-run", "--json")

    assert (status, err) == (0, "")
    result = json.loads(out)
    assert result["dry_run"] is True
    assert {k: result[k] for k in DEMO_COUNTS} == DEMO_COUNTS
    assert _row_counts() == before


def test_importing_the_same_places_again_is_a_fault(site):
    """The demo operator already holds both places: the whole import is refused."""
    before = _row_counts()

    status, out, err = _run(str(WORKBOOK))

    assert status == 1
    assert out == ""
    assert "Lieux, row 4, column «Nom du lieu»: place already exists in Cascade (imported before?) " \
           "(value: «Les Ateliers du Canal»)" in err
    assert "Lieux, row 5, column «Nom du lieu»: place already exists in Cascade (imported before?) " \
           "(value: «École Voltaire»)" in err
    assert _row_counts() == before


def test_command_rejects_a_missing_file_and_a_bad_date(site, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_workbook", str(tmp_path / "absent.xlsx"))
    with pytest.raises(CommandError, match="not a date"):
        call_command("import_workbook", str(WORKBOOK), "--billing-from", "31/12/2025")


# The faulty workbook -------------------------------------------------------------------------


def test_faulty_workbook_reports_every_fault_and_writes_nothing(site):
    before = _row_counts()

    report = import_workbook(str(ERRORS_WORKBOOK), billing_from=date(2026, 1, 1))

    assert not report.ok
    assert sorted((f.as_dict() for f in report.faults), key=_fault_key) == _expected_faults()
    assert report.counts == {}
    assert _row_counts() == before


def test_faulty_workbook_on_an_empty_site_writes_nothing(empty_site):
    """Even with no place in the way (nothing would clash), a fault stops the whole import."""
    before = _row_counts()

    report = import_workbook(str(ERRORS_WORKBOOK))

    assert sorted((f.as_dict() for f in report.faults), key=_fault_key) == _expected_faults()
    assert _row_counts() == before
    assert not Place.objects.exists()


def test_command_exits_1_with_every_fault_on_stderr(empty_site):
    before = _row_counts()
    expected = _expected_faults()

    status, out, err = _run(str(ERRORS_WORKBOOK))

    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == f"{ERRORS_WORKBOOK}: 11 fault(s), nothing imported"
    assert sorted(lines[1:]) == sorted(_fault_line(f) for f in expected)
    assert _row_counts() == before


def test_command_notes_places_already_imported_beside_the_faults(site):
    status, _out, err = _run(str(ERRORS_WORKBOOK))

    assert status == 1
    lines = err.splitlines()
    assert lines[0] == f"{ERRORS_WORKBOOK}: 11 fault(s), nothing imported"
    assert lines[-2:] == [
        "note: place already exists in Cascade (imported before?): Les Ateliers du Canal (Lieux, row 4)",
        "note: place already exists in Cascade (imported before?): École Voltaire (Lieux, row 5)"]


def test_command_reports_a_file_that_is_not_a_workbook(empty_site, tmp_path):
    not_xlsx = tmp_path / "classeur.xlsx"
    not_xlsx.write_text("Nom;Surface\nA-101;25\n", encoding="utf-8")

    status, out, err = _run(str(not_xlsx), "--json")

    assert status == 1
    assert json.loads(out)["faults"] == [{"sheet": "", "row": 0, "column": "", "value": "",
                                          "problem": "file that is not an Excel workbook (.xlsx)"}]
    assert err.splitlines() == ["workbook: file that is not an Excel workbook (.xlsx)"]


def test_command_json_lists_the_faults(empty_site):
    before = _row_counts()

    status, out, err = _run(str(ERRORS_WORKBOOK), "--json", "--billing-from", "2026-01-01")

    assert status == 1
    result = json.loads(out)
    assert sorted(result["faults"], key=_fault_key) == _expected_faults()
    assert len(err.splitlines()) == 11
    assert _row_counts() == before


# Billing start -------------------------------------------------------------------------------


def test_billing_from_records_earlier_periods_as_billed_outside(empty_site):
    status, out, err = _run(str(WORKBOOK), "--billing-from", "2026-01-01", "--json")
    assert (status, err) == (0, "")

    forge = _held("S02", "La Forge Nomade")
    assert forge.billing_from == date(2026, 1, 1)
    # À échoir, entered 29/11/2025: November (2 days of 30) and December invoiced by hand.
    assert list(forge.billed_outside.order_by("period_start", "component").values_list(
        "period_start", "period_end", "component", "amount_excl_vat")) == [
        (date(2025, 11, 1), date(2025, 12, 1), "fluids", Decimal("6.20")),  # 93 × 2/30
        (date(2025, 11, 1), date(2025, 12, 1), "rent", Decimal("33.07")),  # 496 × 2/30 = 33.0666…
        (date(2025, 12, 1), date(2026, 1, 1), "fluids", Decimal("93.00")),
        (date(2025, 12, 1), date(2026, 1, 1), "rent", Decimal("496.00")),
    ]
    # À terme échu, entered 03/11/2025: November was invoiced on 01/12/2025, by hand; December
    # is invoiced on 01/01/2026, not before the billing start, so by Cascade.
    chantier = _held("S14", "Le Chantier du Canal")
    assert list(chantier.billed_outside.order_by("component").values_list(
        "period_start", "component", "amount_excl_vat")) == [
        (date(2025, 11, 1), "fluids", Decimal("77.00")),  # 82.50 × 28/30
        (date(2025, 11, 1), "rent", Decimal("554.40")),  # 594 × 28/30
    ]
    # Entered after the billing start: nothing billed outside.
    alix = _held("S11", "Alix Haddad")
    assert not alix.billed_outside.exists()

    out = io.StringIO()
    call_command("bill", "--until", "2026-01-01", "--json", stdout=out)

    issued = json.loads(out.getvalue())["issued"]
    assert issued == Invoice.objects.count() > 0
    # Everything invoiced before 2026-01-01 was billed by hand: Cascade issues nothing earlier.
    assert set(Invoice.objects.values_list("issue_date", flat=True)) == {date(2026, 1, 1)}
    forge_invoice = Invoice.objects.get(subscription=forge)
    assert (forge_invoice.period_start, forge_invoice.total_excl_vat, forge_invoice.total_incl_vat) == (
        date(2026, 1, 1), Decimal("589.00"), Decimal("589.00"))
    chantier_invoice = Invoice.objects.get(subscription=chantier)
    assert (chantier_invoice.period_start, chantier_invoice.period_end) == (date(2025, 12, 1), date(2026, 1, 1))
    assert chantier_invoice.total_excl_vat == Decimal("676.50")
    assert chantier_invoice.number.startswith("F2026-")


def test_without_billing_from_billing_starts_at_entry(empty_site):
    assert _run(str(WORKBOOK), "--json")[0] == 0

    call_command("bill", "--until", "2025-12-31", stdout=io.StringIO())

    forge = _held("S02", "La Forge Nomade")
    assert list(forge.invoices.order_by("issue_date").values_list("issue_date", "total_excl_vat")) == [
        (date(2025, 11, 29), Decimal("39.27")),  # 33.07 + 6.20
        (date(2025, 12, 1), Decimal("589.00")),
    ]


# From the browser ----------------------------------------------------------------------------


@pytest.fixture
def uploads(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path / "uploads"


def _upload(client, org_id: int, path) -> str:
    with path.open("rb") as f:
        response = client.post(reverse("import_workbook", args=[org_id]), {"workbook": f})
    assert response.status_code == 302
    token = response.url.rstrip("/").rsplit("/", 1)[1]
    assert response.url == reverse("import_review", args=[org_id, token])
    return token


def test_alice_uploads_reviews_and_confirms(client, site, uploads):
    operator = _new_operator()
    Membership.objects.create(user=site["alice"], organisation=operator, role=Role.ADMIN)
    login(client, site["alice"])

    assert client.get(reverse("import_workbook", args=[operator.pk])).status_code == 200
    token = _upload(client, operator.pk, WORKBOOK)
    assert (uploads / f"{token}.xlsx").exists()
    before = _row_counts()

    review = client.get(reverse("import_review", args=[operator.pk, token]))

    assert review.status_code == 200
    assert review.context["report"].ok
    assert review.context["report"].counts == DEMO_COUNTS
    assert "<li>172 occupations</li>" in review.content.decode()  # counts in French
    assert _row_counts() == before  # reading the report writes nothing

    confirm = client.post(reverse("import_review", args=[operator.pk, token]), {"billing_from": "2026-01-01"})

    assert confirm.status_code == 302
    assert confirm.url == reverse("dashboard", args=[operator.pk])
    assert Place.objects.filter(organisation=operator).count() == 2
    assert Subscription.objects.filter(organisation=operator, billing_from=date(2026, 1, 1)).count() == 172
    forge = _held("S02", "La Forge Nomade", operator)
    assert forge.billed_outside.count() == 4
    event = AuditEvent.objects.get(organisation=operator, action="workbook.imported")
    assert event.actor == site["alice"]
    assert event.data["billing_from"] == "2026-01-01"
    assert not (uploads / f"{token}.xlsx").exists()
    # The upload is spent: going back to it asks for a new upload.
    again = client.get(reverse("import_review", args=[operator.pk, token]))
    assert again.status_code == 302
    assert again.url == reverse("import_workbook", args=[operator.pk])


def test_browser_report_lists_the_faults_and_confirming_writes_nothing(alice_client, site, uploads):
    operator = site["operator"]
    token = _upload(alice_client, operator.pk, ERRORS_WORKBOOK)
    before = _row_counts()

    review = alice_client.get(reverse("import_review", args=[operator.pk, token]))

    assert review.status_code == 200
    faults = [f.as_dict() for f in review.context["report"].faults]
    assert sorted(faults, key=_fault_key) == _expected_faults()
    html = review.content.decode()
    assert "Association Inconnue au Bataillon" in html
    # The report speaks French: the problems are translated, the values and columns are the sheet's.
    assert ("<td>Occupations</td><td>7</td><td>Date d&#x27;entrée</td><td>31/02/2026</td>"
            "<td>date inexistante</td>") in html
    # The places of the workbook are already in Cascade: said now, not after the corrections.
    assert "Les Ateliers du Canal (Lieux, ligne 4), École Voltaire (Lieux, ligne 5)." in html
    # Nothing can be confirmed from a faulty workbook, and it is not kept (it holds IBANs).
    assert not (uploads / f"{token}.xlsx").exists()

    confirm = alice_client.post(reverse("import_review", args=[operator.pk, token]),
                                {"billing_from": "2026-01-01"})

    assert confirm.status_code == 302
    assert confirm.url == reverse("import_workbook", args=[operator.pk])
    assert _row_counts() == before


def test_bob_the_viewer_cannot_import(client, site, uploads):
    operator = site["operator"]
    login(client, site["bob"])
    before = _row_counts()

    assert client.get(reverse("import_workbook", args=[operator.pk])).status_code == 404
    with WORKBOOK.open("rb") as f:
        response = client.post(reverse("import_workbook", args=[operator.pk]), {"workbook": f})
    assert response.status_code == 404
    assert client.post(reverse("import_review", args=[operator.pk, "any-token"]),
                       {"billing_from": "2026-01-01"}).status_code == 404
    assert not uploads.exists()
    assert _row_counts() == before


def test_charlie_cannot_import_into_another_organisation(charlie_client, site, uploads):
    operator = site["operator"]
    assert charlie_client.get(reverse("import_workbook", args=[operator.pk])).status_code == 404
    with WORKBOOK.open("rb") as f:
        assert charlie_client.post(reverse("import_workbook", args=[operator.pk]),
                                   {"workbook": f}).status_code == 404
    assert not uploads.exists()


def test_an_upload_is_bound_to_the_organisation_it_was_made_for(alice_client, site, uploads):
    """A token of one organisation does not open in another one alice manages."""
    other = _new_operator()
    Membership.objects.create(user=site["alice"], organisation=other, role=Role.ADMIN)
    token = _upload(alice_client, site["operator"].pk, WORKBOOK)
    before = _row_counts()

    response = alice_client.post(reverse("import_review", args=[other.pk, token]), {"billing_from": ""})

    assert response.status_code == 302
    assert response.url == reverse("import_workbook", args=[other.pk])
    assert _row_counts() == before


# The same operator, another workbook -----------------------------------------------------------


def _copy(tmp_path, edit) -> str:
    book = openpyxl.load_workbook(WORKBOOK)
    edit(book)
    path = tmp_path / "classeur.xlsx"
    book.save(path)
    return str(path)


def _rename_places(book, rename) -> None:
    for sheet, header in (("Lieux", "Nom du lieu"), ("Espaces", "Lieu"), ("Occupations", "Lieu"), ("Dépenses", "Lieu")):
        column = [c.value for c in book[sheet][3]].index(header) + 1
        for row in range(4, book[sheet].max_row + 1):
            cell = book[sheet].cell(row, column)
            if isinstance(cell.value, str) and cell.value.strip() in (ATELIERS, VOLTAIRE):
                cell.value = rename(cell.value.strip())


def test_the_same_places_in_other_letters_are_already_imported(site, tmp_path):
    before = _row_counts()
    path = _copy(tmp_path, lambda book: _rename_places(book, str.upper))

    report = import_workbook(path)

    assert [(f.sheet, f.row, f.value, f.problem) for f in report.faults] == [
        ("Lieux", 4, "LES ATELIERS DU CANAL", "place already exists in Cascade (imported before?)"),
        ("Lieux", 5, "ÉCOLE VOLTAIRE", "place already exists in Cascade (imported before?)")]
    assert _row_counts() == before


def test_a_second_workbook_of_the_operator_reuses_its_occupants(site, tmp_path):
    occupants = Organisation.objects.filter(operator=site["operator"]).count()
    karim = Organisation.objects.get(operator=site["operator"], name="Karim Traoré")
    held = karim.held_subscriptions.count()
    path = _copy(tmp_path, lambda book: _rename_places(book, lambda name: f"{name} (extension)"))

    report = import_workbook(path)

    assert report.ok, report.faults
    # Every occupant and partner is already known (by SIRET, else by name): none is created twice.
    assert (report.counts["places"], report.counts["subscriptions"], report.counts["occupants"],
            report.counts["partners"]) == (2, 172, 0, 0)
    assert Organisation.objects.filter(operator=site["operator"]).count() == occupants
    assert held > 0
    assert karim.held_subscriptions.count() == 2 * held
    assert karim.held_subscriptions.filter(place__name__endswith="(extension)").count() == held


def test_a_meeting_room_is_never_rentable_whatever_its_accents(empty_site, tmp_path):
    def edit(book):
        book["Espaces"].cell(132, 5).value = "salle de reunion"  # PREAU

    report = import_workbook(_copy(tmp_path, edit))

    assert report.ok, report.faults
    preau = Resource.objects.get(place__name=VOLTAIRE, reference="PREAU")
    assert (preau.type.name, preau.type.rentable) == ("salle de reunion", False)


def test_an_occupant_cannot_import_a_workbook(client, site, uploads):
    """An occupant's administrator manages its own organisation, which is not an operator."""
    occupant = Organisation.objects.get(operator=site["operator"], name="Karim Traoré")
    Membership.objects.create(user=site["charlie"], organisation=occupant, role=Role.ADMIN)
    login(client, site["charlie"])

    assert client.get(reverse("import_workbook", args=[occupant.pk])).status_code == 404
    with WORKBOOK.open("rb") as f:
        assert client.post(reverse("import_workbook", args=[occupant.pk]), {"workbook": f}).status_code == 404
    assert not uploads.exists() or not list(uploads.iterdir())
