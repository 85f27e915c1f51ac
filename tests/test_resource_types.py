"""Operators define their resource types in the app: unit, rentable, the reference price that values
vacancy, and the custom attributes their resources carry. A split refuses what the database
cannot keep."""

from decimal import Decimal

import pytest
from django.urls import reverse

from cascade.accounts.models import AuditEvent
from cascade.places.models import Place, Resource, ResourceType


@pytest.fixture
def locker(operator) -> Resource:
    return Resource.objects.filter(organisation=operator, surface__isnull=True, children__isnull=True,
                                   type__rentable=True).order_by("reference").first()


def test_an_operator_sets_a_reference_price_and_defines_attributes(alice_client, operator):
    office = ResourceType.objects.get(organisation=operator, name="Bureau")
    response = alice_client.post(reverse("resource_type", args=[office.pk]), {
        "unit": "m2", "rentable": "on", "reference_price": "11.50", "price_basis": "per_m2",
        "attribute_lines": "sink; Point d'eau; bool\nwindows; Fenêtres; number\n"})
    assert response.status_code == 302
    office.refresh_from_db()
    assert office.reference_price == Decimal("11.50")
    assert office.attributes == [{"key": "sink", "label": "Point d'eau", "type": "bool"},
                                 {"key": "windows", "label": "Fenêtres", "type": "number"}]
    assert AuditEvent.objects.filter(action="resource_type.changed", object_id=str(office.pk)).exists()
    resource = Resource.objects.filter(type=office).order_by("reference").first()
    # Vacancy is valued at the new price: 11.50 €/m².
    assert resource.monthly_reference_price == Decimal("11.50") * resource.surface
    response = alice_client.post(reverse("resource_attributes", args=[resource.pk]), {"sink": "on", "windows": "3"})
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.attributes == {"sink": True, "windows": "3"}
    page = alice_client.get(reverse("resource", args=[resource.pk])).content.decode()
    assert "Point d&#x27;eau" in page and "Fenêtres" in page


@pytest.mark.parametrize("lines, error", [
    ("sink; Point d'eau", "Ligne 1"),
    ("Sink Count; Point d'eau; bool", "Ligne 1"),
    ("sink; Point d'eau; colour", "Ligne 1"),
    ("sink; A; bool\nsink; B; text", "Ligne 2"),
])
def test_bad_attribute_definitions_are_refused_with_their_line(alice_client, operator, lines, error):
    office = ResourceType.objects.get(organisation=operator, name="Bureau")
    response = alice_client.post(reverse("resource_type", args=[office.pk]), {
        "unit": "m2", "rentable": "on", "reference_price": "8", "price_basis": "per_m2", "attribute_lines": lines})
    assert response.status_code == 400
    assert error in response.content.decode()
    office.refresh_from_db()
    assert office.attributes == []


@pytest.mark.parametrize("parts", [
    "CASA; 123456789012\nCASB; 1",
    "CASA; NaN\nCASB; 1",
    "CASA; sNaN\nCASB; 1",
    "CASA; Infinity\nCASB; 1",
    "CASA; 1,234\nCASB; 1",
    "X" * 51 + "; 1\nCASB; 1",
])
def test_a_split_refuses_what_the_database_cannot_keep(alice_client, operator, locker, parts):
    before = Resource.objects.filter(place=locker.place).count()
    response = alice_client.post(reverse("resource_split", args=[locker.pk]),
                                 {"effective_date": "2027-01-10", "parts": parts})
    assert response.status_code == 400
    assert Resource.objects.filter(place=locker.place).count() == before
    assert alice_client.get(reverse("place", args=[locker.place_id])).status_code == 200


def test_a_huge_filter_id_finds_nothing(alice_client, operator):
    place = Place.objects.filter(organisation=operator).first()
    for name in ("place", "customer"):
        response = alice_client.get(reverse("invoices", args=[operator.pk]), {name: "9" * 25})
        assert response.status_code == 200
        assert response.context["totals"]["n"] == 0
    assert alice_client.get(reverse("invoices", args=[operator.pk]), {"place": place.pk}).context["totals"]["n"] > 0


def test_a_malformed_day_is_said_and_today_shown(alice_client, operator):
    response = alice_client.get(reverse("dashboard", args=[operator.pk]), {"on": "2026-13-40"})
    assert response.status_code == 200
    assert "2026-13-40" in response.content.decode()
