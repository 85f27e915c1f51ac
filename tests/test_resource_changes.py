"""Splitting and merging spaces from a date: history kept, vacancy follows, occupied spaces refused."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from cascade.accounts.models import AuditEvent, Membership, Organisation, OrganisationKind, Role
from cascade.places.actions import Part, ResourceChangeError, merge_resources, split_resource
from cascade.places.models import Place, Resource, ResourceChange, ResourceType, VatRegime
from cascade.places.occupancy import place_vacancy
from cascade.subscriptions.models import Frequency, Subscription, SubscriptionVersion, Term
from tests.conftest import PASSWORD, login


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the French ones are the catalogue's business."""
    with translation.override("en"):
        yield


@pytest.fixture
def place(db):
    operator = Organisation.objects.create(name="Friche Test", slug="friche-test", kind=OrganisationKind.OPERATOR)
    place = Place.objects.create(
        organisation=operator, name="Halle", convention_start=date(2026, 1, 1), convention_end=date(2027, 12, 31),
        vat_regime=VatRegime.EXEMPT,
    )
    office = ResourceType.objects.create(organisation=operator, name="Bureau", reference_price=Decimal("10.00"))
    for reference, surface in (("B-1", "40"), ("B-2", "20"), ("B-3", "30")):
        Resource.objects.create(organisation=operator, place=place, type=office, reference=reference,
                                surface=Decimal(surface), valid_from=date(2026, 1, 1))
    return place


def _resource(place, reference):
    return Resource.objects.get(place=place, reference=reference)


def _occupy(place, reference, entry, exit_=None):
    tenant = Organisation.objects.create(name=f"Occupant {reference}", slug=f"occ-{reference.lower()}",
                                         kind=OrganisationKind.OCCUPANT, operator=place.organisation)
    subscription = Subscription.objects.create(organisation=place.organisation, subscriber=tenant, place=place,
                                               reference=f"S-{reference}")
    version = SubscriptionVersion.objects.create(
        subscription=subscription, number=1, effective_from=entry, entry_date=entry, exit_date=exit_,
        frequency=Frequency.MONTHLY, term=Term.ADVANCE, status="in_force",
    )
    version.resources.add(_resource(place, reference))


def test_split_ends_the_source_the_day_before_and_keeps_its_history(place):
    parts = split_resource(_resource(place, "B-1"), [Part("B-1a", Decimal("25")), Part("B-1b", Decimal("15"))],
                           effective_date=date(2026, 6, 1))
    source = _resource(place, "B-1")
    assert source.valid_until == date(2026, 5, 31)
    assert [(p.reference, p.surface, p.valid_from, p.valid_until) for p in parts] == [
        ("B-1a", Decimal("25"), date(2026, 6, 1), None),
        ("B-1b", Decimal("15"), date(2026, 6, 1), None),
    ]
    change = ResourceChange.objects.get()
    assert change.kind == "split"
    assert list(change.sources.all()) == [source]
    assert sorted(r.reference for r in source.became.get().results.all()) == ["B-1a", "B-1b"]
    assert AuditEvent.objects.filter(action="resource.split").count() == 1


def test_vacancy_counts_the_resources_valid_on_the_day(place):
    split_resource(_resource(place, "B-1"), [Part("B-1a", Decimal("25")), Part("B-1b", Decimal("15"))],
                   effective_date=date(2026, 6, 1))
    _occupy(place, "B-1a", date(2026, 6, 1))
    before, after = place_vacancy(place, date(2026, 5, 31)), place_vacancy(place, date(2026, 6, 1))
    assert (before["resources"], before["occupied"], before["vacancy_rate_count"]) == (3, 0, Decimal("1.0000"))
    # B-1a (25 m²) occupied; B-1b 15 + B-2 20 + B-3 30 = 65 of 90 m² vacant.
    assert (after["resources"], after["occupied"]) == (4, 1)
    assert after["vacancy_rate_count"] == Decimal("0.7500")
    assert after["vacancy_rate_surface"] == Decimal("0.7222")
    # June at 10 €/m²: 65 m² vacant all month.
    assert after["vacancy_cost_month"] == Decimal("650.00")
    # May: 90 m² vacant, B-1 priced 400, B-2 200, B-3 300.
    assert before["vacancy_cost_month"] == Decimal("900.00")


def test_merge_sums_surfaces_and_capacities(place):
    merged = merge_resources([_resource(place, "B-2"), _resource(place, "B-3")], "B-23",
                             effective_date=date(2026, 9, 1))
    assert (merged.surface, merged.valid_from) == (Decimal("50"), date(2026, 9, 1))
    assert _resource(place, "B-2").valid_until == date(2026, 8, 31)
    assert _resource(place, "B-3").valid_until == date(2026, 8, 31)
    assert sorted(r.reference for r in merged.came_from.get().sources.all()) == ["B-2", "B-3"]
    assert place_vacancy(place, date(2026, 9, 1))["resources"] == 2


@pytest.mark.parametrize(
    ("parts", "effective", "message"),
    [
        ([Part("B-1a", Decimal("30")), Part("B-1b", Decimal("20"))], date(2026, 6, 1), "50 m², more than the 40"),
        ([Part("B-1a")], date(2026, 6, 1), "at least two"),
        ([Part("B-1a"), Part("B-2")], date(2026, 6, 1), "already used in this place: B-2"),
        ([Part("B-1a"), Part("b-1A")], date(2026, 6, 1), "must differ"),
        ([Part("B-1a"), Part("B-1b")], date(2026, 1, 1), "only exists from 01/01/2026"),
        ([Part("B-1a"), Part("B-1b", Decimal("0"))], date(2026, 6, 1), "greater than zero"),
    ],
)
def test_bad_splits_are_refused_and_change_nothing(place, parts, effective, message):
    with pytest.raises(ResourceChangeError, match=message):
        split_resource(_resource(place, "B-1"), parts, effective_date=effective)
    assert _resource(place, "B-1").valid_until is None
    assert Resource.objects.filter(place=place).count() == 3
    assert not ResourceChange.objects.exists()


def test_an_occupied_space_cannot_be_reshaped_under_its_occupant(place):
    _occupy(place, "B-2", date(2026, 2, 1), date(2026, 9, 30))
    with pytest.raises(ResourceChangeError, match="held by Occupant B-2 after 31/08/2026"):
        merge_resources([_resource(place, "B-2"), _resource(place, "B-3")], "B-23", effective_date=date(2026, 9, 1))
    merged = merge_resources([_resource(place, "B-2"), _resource(place, "B-3")], "B-23",
                             effective_date=date(2026, 10, 1))
    assert merged.surface == Decimal("50")


def test_split_and_merge_from_the_resource_page(place, client, django_user_model):
    manager = django_user_model.objects.create_user(username="m@x.org", email="m@x.org", password=PASSWORD)
    viewer = django_user_model.objects.create_user(username="v@x.org", email="v@x.org", password=PASSWORD)
    Membership.objects.create(user=manager, organisation=place.organisation, role=Role.MANAGER)
    Membership.objects.create(user=viewer, organisation=place.organisation, role=Role.VIEWER)
    b1 = _resource(place, "B-1")

    client.cookies["django_language"] = "en"
    login(client, viewer)
    assert "id=\"split\"" not in client.get(f"/resources/{b1.pk}/").content.decode()
    assert client.post(f"/resources/{b1.pk}/split/", {"effective_date": "2026-06-01",
                                                       "parts": "X; 1\nY; 2"}).status_code == 404

    login(client, manager)
    response = client.post(f"/resources/{b1.pk}/split/", {"effective_date": "2026-06-01",
                                                           "parts": "B-1a; 25\nB-1b; douze"})
    assert response.status_code == 400
    assert "Line 2: the surface «douze» is not a number." in response.content.decode()
    response = client.post(f"/resources/{b1.pk}/split/", {"effective_date": "2026-06-01",
                                                           "parts": "B-1a; 12,5\n\nB-1b; 27,5"})
    assert response.status_code == 302
    assert _resource(place, "B-1a").surface == Decimal("12.5")

    b2, b3 = _resource(place, "B-2"), _resource(place, "B-3")
    response = client.post(f"/resources/{b2.pk}/merge/", {"effective_date": "2026-07-01", "others": [b3.pk],
                                                           "reference": "B-23"})
    assert response.status_code == 302
    assert _resource(place, "B-23").surface == Decimal("50")
