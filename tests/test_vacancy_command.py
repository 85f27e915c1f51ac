"""`cascade vacancy --on DATE --json`: per place, spaces counted and occupied, vacancy rates and the
reference rent lost over the month containing DATE."""

import io
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from cascade.accounts.models import Organisation, OrganisationKind
from cascade.imports.workbook import read_workbook
from cascade.places.models import Place, PriceBasis, Resource, ResourceType, Unit, VatRegime
from cascade.subscriptions.models import Subscription, SubscriptionComponent, SubscriptionVersion
from conftest import WORKBOOK

KEYS = ["place", "resources", "occupied", "vacancy_rate_count", "vacancy_rate_surface", "vacancy_cost_month"]
ATELIERS = "Les Ateliers du Canal"
VOLTAIRE = "École Voltaire"


def vacancy(day: str) -> tuple[str, dict[str, dict]]:
    """The command's raw output and its objects by place name."""
    out = io.StringIO()
    call_command("vacancy", "--on", day, "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert isinstance(rows, list)
    assert all(list(row) == KEYS for row in rows)
    return out.getvalue(), {row["place"]: row for row in rows}


# The demo site ----------------------------------------------------------------------------------


def test_demo_places_on_15_march_2026(site):
    raw, places = vacancy("2026-03-15")

    assert places[ATELIERS] == {"place": ATELIERS, "resources": 109, "occupied": 99, "vacancy_rate_count": 0.0917,
                                "vacancy_rate_surface": 0.1052, "vacancy_cost_month": "4658.42"}
    assert places[VOLTAIRE] == {"place": VOLTAIRE, "resources": 15, "occupied": 13, "vacancy_rate_count": 0.1333,
                                "vacancy_rate_surface": 0.1506, "vacancy_cost_month": "1140.00"}
    # Rates are JSON numbers, the cost a string with two decimals.
    assert '"vacancy_rate_count": 0.1333' in raw
    assert '"vacancy_cost_month": "1140.00"' in raw


def test_demo_voltaire_figures_follow_from_the_workbook_rows(site):
    """École Voltaire recomputed from the rows of the workbook, without the vacancy module."""
    day = date(2026, 3, 15)
    reading = read_workbook(WORKBOOK)
    # The "Salle de réunion" (PREAU, 180 m²) is not rentable: it does not count.
    spaces = {s.reference: s for s in reading.spaces if s.place == VOLTAIRE and s.type != "Salle de réunion"}
    held = {ref for o in reading.occupations if o.place == VOLTAIRE
            and o.entry <= day and (o.exit is None or day <= o.exit) for ref in o.references}
    vacant = set(spaces) - held

    # S02: La Forge Nomade left on 14/03 (row 164); S11: Alix Haddad enters on 08/09 (row 175).
    assert vacant == {"S02", "S11"}
    assert len(spaces) == 15
    surface = sum(s.surface for s in spaces.values())
    assert (surface, spaces["S02"].surface, spaces["S11"].surface) == (Decimal(817), Decimal(62), Decimal(61))
    # Valued at the grid's highest rate, 12 €/m²/month: S02 empty 15–31 March (17 days of 31),
    # S11 the whole month → 62 × 12 × 17/31 + 61 × 12 = 408.00 + 732.00.
    assert max(p.rent for p in reading.prices if not p.flat) == Decimal(12)

    _, places = vacancy(day.isoformat())

    assert places[VOLTAIRE]["resources"] == 15
    assert places[VOLTAIRE]["occupied"] == 15 - 2
    assert places[VOLTAIRE]["vacancy_rate_count"] == round(2 / 15, 4) == 0.1333
    assert places[VOLTAIRE]["vacancy_rate_surface"] == round(123 / 817, 4) == 0.1506
    assert Decimal(places[VOLTAIRE]["vacancy_cost_month"]) == Decimal(62 * 12 * 17) / 31 + 61 * 12 == Decimal(1140)


# A place built by hand ------------------------------------------------------------------------


@pytest.fixture
def halle(db):
    """Halle Essai: offices B1 (20 m²), B2 (30 m²), B3 (40 m², gone after 31/03/2026), locker C1,
    meeting room S1 (not rentable). Offices are worth 10 €/m²/month, the locker 15 €/month.
    B1 is held from 01/02/2026, B2 from 01/01/2026 to 20/03/2026."""
    operator = Organisation.objects.create(name="Tiers-Lieu Essai", slug="tiers-lieu-essai",
                                           kind=OrganisationKind.OPERATOR)
    place = Place.objects.create(organisation=operator, name="Halle Essai", convention_start=date(2026, 1, 1),
                                 convention_end=date(2026, 12, 31), vat_regime=VatRegime.EXEMPT)
    office = ResourceType.objects.create(organisation=operator, name="Bureau", reference_price=Decimal("10.00"))
    locker = ResourceType.objects.create(organisation=operator, name="Casier", unit=Unit.UNIT,
                                         reference_price=Decimal("15.00"), price_basis=PriceBasis.FLAT)
    room = ResourceType.objects.create(organisation=operator, name="Salle de réunion", rentable=False,
                                       reference_price=Decimal("10.00"))

    def resource(reference, type_, surface=None, **kwargs):
        return Resource.objects.create(organisation=operator, place=place, type=type_, reference=reference,
                                       surface=surface, **kwargs)

    b1, b2 = resource("B1", office, Decimal(20)), resource("B2", office, Decimal(30))
    resource("B3", office, Decimal(40), valid_until=date(2026, 3, 31))
    resource("C1", locker)
    resource("S1", room, Decimal(50))
    for n, (space, entry, exit) in enumerate([(b1, date(2026, 2, 1), None),
                                              (b2, date(2026, 1, 1), date(2026, 3, 20))], start=1):
        occupant = Organisation.objects.create(name=f"Occupant {n}", slug=f"occupant-essai-{n}",
                                               kind=OrganisationKind.OCCUPANT, operator=operator)
        subscription = Subscription.objects.create(organisation=operator, subscriber=occupant, place=place,
                                                   reference=f"OCC-{n:04d}")
        version = SubscriptionVersion.objects.create(subscription=subscription, number=1, effective_from=entry,
                                                     entry_date=entry, exit_date=exit, frequency="monthly",
                                                     term="advance", status="in_force")
        version.resources.set([space])
        SubscriptionComponent.objects.create(version=version, kind="rent", monthly_amount=Decimal("100.00"))
    return place


def test_hand_made_place_after_an_exit(halle):
    _, places = vacancy("2026-04-20")

    # B1, B2 and C1 count (S1 is not rentable, B3 no longer exists); only B1 is held.
    # Surface: 30 of the 50 m² measured are empty (C1 has no surface).
    # April (30 days): B2 empty all month 30 × 10 = 300.00, C1 15.00.
    assert places["Halle Essai"] == {"place": "Halle Essai", "resources": 3, "occupied": 1,
                                     "vacancy_rate_count": 0.6667, "vacancy_rate_surface": 0.6,
                                     "vacancy_cost_month": "315.00"}


def test_hand_made_place_cost_covers_the_whole_month(halle):
    _, places = vacancy("2026-03-15")

    # B1, B2, B3 and C1 count, B1 and B2 are held on the 15th: 2 of 4, 40 of 90 m² empty.
    # March (31 days): B2 empty 21–31 (11 days) 300 × 11/31 = 106.451… → 106.45, B3 400.00,
    # C1 15.00: 521.45, although B2 is still held on the 15th.
    assert places["Halle Essai"] == {"place": "Halle Essai", "resources": 4, "occupied": 2,
                                     "vacancy_rate_count": 0.5, "vacancy_rate_surface": 0.4444,
                                     "vacancy_cost_month": "521.45"}


def test_nothing_is_vacant_outside_the_owners_convention(halle):
    halle.convention_start, halle.convention_end = date(2026, 1, 10), date(2026, 11, 20)
    halle.save()

    # Before and after the convention the place is not lent: nothing counts, nothing is lost.
    for day in ("2025-12-15", "2026-12-01", "2027-03-01"):
        _, places = vacancy(day)
        assert places["Halle Essai"] == {"place": "Halle Essai", "resources": 0, "occupied": 0,
                                         "vacancy_rate_count": 0.0, "vacancy_rate_surface": 0.0,
                                         "vacancy_cost_month": "0.00"}, day
    # January: B1 (200 €), B3 (400 €) and C1 (15 €) empty from 10/01 only (22 days of 31);
    # B2 is held. 615 × 22/31 = 436.451… → 436.45.
    _, places = vacancy("2026-01-10")
    assert places["Halle Essai"]["vacancy_cost_month"] == "436.45"
    # November: B2 and C1 empty 01–20 (20 days of 30): 315 × 20/30 = 210.00, the day after the
    # convention included, when nothing counts any more.
    for day in ("2026-11-20", "2026-11-21"):
        _, places = vacancy(day)
        assert places["Halle Essai"]["vacancy_cost_month"] == "210.00"
    assert places["Halle Essai"]["resources"] == 0


def test_a_place_without_surfaces_has_no_surface_rate(halle):
    place = Place.objects.create(organisation=halle.organisation, name="Consigne", convention_start=date(2026, 1, 1),
                                 convention_end=date(2026, 12, 31), vat_regime=VatRegime.EXEMPT)
    Resource.objects.create(organisation=halle.organisation, place=place, reference="K1",
                            type=ResourceType.objects.get(organisation=halle.organisation, name="Casier"))

    raw, places = vacancy("2026-02-10")

    # February (28 days): the locker is empty all month, 15.00.
    assert places["Consigne"] == {"place": "Consigne", "resources": 1, "occupied": 0, "vacancy_rate_count": 1.0,
                                  "vacancy_rate_surface": None, "vacancy_cost_month": "15.00"}
    assert '"vacancy_rate_surface": null' in raw


def test_bad_date_is_refused(db):
    with pytest.raises(CommandError, match="not a date"):
        call_command("vacancy", "--on", "15/03/2026")


def test_place_page_costs_the_months_of_the_convention(site, alice_client):
    voltaire = Place.objects.get(organisation=site["operator"], name=VOLTAIRE)

    response = alice_client.get(f"/places/{voltaire.pk}/", {"on": "2026-03-15"})

    # Convention 01/09/2025 – 31/12/2026: sixteen months, September 2025 to December 2026.
    months = [month for month, _cost in response.context["costs"]]
    assert (months[0], months[-1], len(months)) == (date(2025, 9, 1), date(2026, 12, 1), 16)
    assert response.context["cost_total"] == sum(cost for _m, cost in response.context["costs"])
    assert dict(response.context["costs"])[date(2026, 3, 1)] == Decimal("1140.00")
